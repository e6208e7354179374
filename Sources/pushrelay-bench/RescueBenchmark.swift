import Foundation
import ProviderSandbox

/// Rescue: a relay process is killed (`kill -9`) while it holds a leased job in the middle of its
/// provider call; another process is started on the same database; seconds from the kill until that
/// job is final (here `indeterminate`: the dead worker may have published).
enum RescueBenchmark {
    static let leaseSeconds = 5

    static func run(_ env: BenchEnvironment) async throws -> Double {
        let database = try await env.freshDatabase()
        let variables = ["PUSHRELAY_LEASE_SECONDS": String(leaseSeconds), "PUSHRELAY_WORKERS": "2"]
        let first = try await env.startRelay(database: database, variables, name: "rescue-first")
        let identity = try await env.connectIdentity(base: first.baseURL)
        env.sandbox.faults.add(
            SandboxFault(provider: "x", pathContains: "/2/tweets", method: "POST", token: identity.accessToken, times: 1, action: .delay(.seconds(120))))
        let reply = try await env.send(
            .POST, first.baseURL + "/push/identities/\(identity.token)/twitter/post.json",
            body: #"{"request":{"push":{"post":{"message":"rescue me"}}}}"#, headers: [("Prefer", "respond-async")])
        guard reply.status == 202 else { throw BenchError("the publish answered \(reply.status)") }
        let token = identity.accessToken
        guard await env.sandbox.recorder.waitFor(count: 1, timeout: .seconds(30), where: { $0.bearerToken == token }) else {
            throw BenchError("the publish never reached the sandbox")
        }
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        let clock = ContinuousClock()
        let killed = clock.now
        let second = try await env.startRelay(database: database, variables, name: "rescue-second")
        defer { second.signal(SIGKILL) }
        while try await env.finalJobs(database) < 1 {
            try await Task.sleep(for: .milliseconds(100))
            if clock.now - killed > .seconds(300) { throw BenchError("the job was not rescued in 5 minutes") }
        }
        let elapsed = clock.now - killed
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
