import Foundation
import ProviderSandbox
import Testing
import TestSupport

/// `GET /metrics`: Prometheus's text format, counting what the relay did. Tests share one relay and run in
/// parallel, so each reads a counter before and after its own work and expects at least its own share.
@Suite struct MetricsTests {
    /// One sample of the exposition: `name{label="value",…} number`.
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// The sum of the samples of `name` whose labels include `labels` (0 when there is none yet).
    static func value(_ name: String, _ labels: [String: String], in env: TestEnvironment) async throws -> Double {
        let reply = try await env.send(.GET, "/metrics", authenticated: false)
        #expect(reply.status == 200)
        return samples(reply.text).filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }

    @Test func isPrometheusTextWithoutAnAPIKey() async throws {
        let env = try await TestEnvironment.shared.value
        _ = try await env.send(.GET, "/healthz", authenticated: false)
        let reply = try await env.send(.GET, "/metrics", authenticated: false)
        #expect(reply.status == 200)
        #expect(reply.headers.first(name: "content-type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(reply.text.contains("# TYPE http_server_requests_total counter"))
        let names = Set(Self.samples(reply.text).map(\.name))
        #expect(names.contains("http_server_requests_total"))
        #expect(names.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } })
        // From 1 ms (an API answer) to 5 minutes (a large video's upload).
        let buckets = Self.samples(reply.text).filter { $0.name == "http_server_request_duration_seconds_bucket" }.compactMap { $0.labels["le"] }
        #expect(Set(buckets).isSuperset(of: ["0.001", "0.0025", "300.0", "+Inf"]))
    }

    @Test func countsRequestsByRouteAndStatus() async throws {
        let env = try await TestEnvironment.shared.value
        let refused: [String: String] = ["http_request_method": "POST", "http_response_status_code": "404"]
        let before = try await Self.value("http_server_requests_total", refused, in: env)
        let unknown = UUID().uuidString.lowercased()
        let reply = try await env.send(
            .POST, "/push/identities/\(unknown)/twitter/post.json", body: #"{"request":{"push":{"post":{"message":"nobody"}}}}"#)
        #expect(reply.status == 404)
        #expect(try await Self.value("http_server_requests_total", refused, in: env) >= before + 1)

        // A path that matches no route counts under one label value, not under its own path.
        let nowhere = ["http_route": "NotFound", "http_request_method": "GET", "http_response_status_code": "404"]
        let strayBefore = try await Self.value("http_server_requests_total", nowhere, in: env)
        let stray = UUID().uuidString
        #expect(try await env.send(.GET, "/nowhere/\(stray)", authenticated: false).status == 404)
        let exposition = try await env.send(.GET, "/metrics", authenticated: false).text
        #expect(!exposition.contains(stray))
        #expect(try await Self.value("http_server_requests_total", nowhere, in: env) >= strayBefore + 1)
    }

    @Test func countsTriesAndProviderCallsByOutcome() async throws {
        let env = try await TestEnvironment.shared.value
        let succeeded = ["provider": "twitter", "outcome": "succeeded"]
        let failed = ["provider": "twitter", "outcome": "failed"]
        let calls = ["provider": "twitter", "outcome": "permanent"]
        let triesBefore = try await Self.value("pushrelay_publish_tries_total", succeeded, in: env)
        let failuresBefore = try await Self.value("pushrelay_publish_tries_total", failed, in: env)
        let refusedCallsBefore = try await Self.value("pushrelay_provider_request_duration_seconds_count", calls, in: env)

        let identity = try await env.connectIdentity()
        let published = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"counted \#(UUID())"}}}}"#)
        #expect(published.status == 200)
        env.sandbox.faults.add(
            SandboxFault(
                provider: "x", pathContains: "/2/tweets", token: identity.accessToken, times: 1,
                action: .respond(status: 403, body: ["title": "Forbidden", "detail": "You are not permitted to perform this action."], headers: [])))
        let refused = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"refused \#(UUID())"}}}}"#)
        #expect(refused.status == 403)

        #expect(try await Self.value("pushrelay_publish_tries_total", succeeded, in: env) >= triesBefore + 1)
        #expect(try await Self.value("pushrelay_publish_tries_total", failed, in: env) >= failuresBefore + 1)
        #expect(try await Self.value("pushrelay_provider_request_duration_seconds_count", calls, in: env) >= refusedCallsBefore + 1)
    }

    @Test func countsCallbackDeliveries() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await CallbackReceiver.start()
        let delivered = ["result": "delivered"]
        let before = try await Self.value("pushrelay_callback_deliveries_total", delivered, in: env)
        let identity = try await env.connectIdentity()
        let path = "/metrics-\(UUID().uuidString.lowercased())"
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"callback_url":"\#(receiver.origin)\#(path)","push":{"post":{"message":"called back"}}}}"#)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        #expect(await receiver.callbacks(path: path, eventID: eventID).count == 1)
        // The relay counts a delivery once it has read the receiver's answer, after the receiver saw it.
        let deadline = ContinuousClock.now + .seconds(30)
        var after = try await Self.value("pushrelay_callback_deliveries_total", delivered, in: env)
        while after < before + 1 && ContinuousClock.now < deadline {
            after = try await Self.value("pushrelay_callback_deliveries_total", delivered, in: env)
        }
        #expect(after >= before + 1)
    }
}
