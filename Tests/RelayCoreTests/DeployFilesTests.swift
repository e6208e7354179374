import Foundation
import Testing

@testable import RelayCore

/// `deploy/`: the container image and the Kubernetes manifests set only variables this version knows, with
/// values it accepts, so a typo there fails here rather than at an operator's first start.
@Suite struct DeployFilesTests {
    static let deploy = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("deploy")

    /// `ENV NAME=value \` lines of the Dockerfile (one ENV instruction, continued lines).
    static func dockerfileEnvironment() throws -> [String: String] {
        let text = try String(contentsOf: deploy.appendingPathComponent("Dockerfile"), encoding: .utf8)
        var environment: [String: String] = [:]
        var inEnv = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var body = line.trimmingCharacters(in: .whitespaces)
            if body.hasPrefix("ENV ") {
                inEnv = true
                body = String(body.dropFirst(4))
            } else if !inEnv {
                continue
            }
            inEnv = body.hasSuffix("\\")
            for pair in body.replacingOccurrences(of: "\\", with: "").split(separator: " ") {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if parts.count == 2 { environment[parts[0]] = parts[1] }
            }
        }
        return environment
    }

    /// Each Deployment's `{ name: X, value: Y }` variables, by Deployment name.
    static func manifestEnvironments() throws -> [String: [String: String]] {
        let text = try String(contentsOf: deploy.appendingPathComponent("kubernetes/pushrelay.yaml"), encoding: .utf8)
        var environments: [String: [String: String]] = [:]
        var deployment: String?
        var isDeployment = false
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("kind: ") { isDeployment = line == "kind: Deployment" }
            if isDeployment, line.hasPrefix("  name: ") { deployment = String(line.dropFirst(8)) }
            guard let deployment, isDeployment,
                let range = line.range(of: #"\{ name: ([A-Z_]+), value: "?([^"}]*)"? \}"#, options: .regularExpression)
            else { continue }
            let inner = line[range].dropFirst(2).dropLast(2)
            let fields = inner.components(separatedBy: ", value: ")
            let name = fields[0].replacingOccurrences(of: "name: ", with: "")
            environments[deployment, default: [:]][name] = fields[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return environments
    }

    @Test func theImageSetsKnownVariablesWithValidValues() throws {
        let environment = try Self.dockerfileEnvironment()
        #expect(environment["PUSHRELAY_HOST"] == "0.0.0.0")
        #expect(environment["PUSHRELAY_METRICS_PORT"] == "9090")
        #expect(Configuration.unknownVariables(in: environment).isEmpty)
        let configuration = try Configuration(environment: environment)
        #expect(configuration.metricsPort == 9090)
        #expect(configuration.logFormatJSON)
    }

    @Test func theManifestsRunAnAPIAndWorkersWithKnownVariables() throws {
        let image = try Self.dockerfileEnvironment()
        let deployments = try Self.manifestEnvironments()
        #expect(Set(deployments.keys) == ["pushrelay-api", "pushrelay-worker"])
        var roles: [Configuration.Role] = []
        for (_, variables) in deployments.sorted(by: { $0.key < $1.key }) {
            let environment = image.merging(variables) { $1 }
            #expect(Configuration.unknownVariables(in: environment).isEmpty)
            let configuration = try Configuration(environment: environment)
            #expect(configuration.metricsPort != nil, "the probes and scrapes need the metrics listener")
            roles.append(configuration.role)
        }
        #expect(roles == [.api, .worker])
    }
}
