import Foundation
import RelayStore

/// Media streamed with bounded memory: a large video relayed from the sandbox's media origin to the
/// sandbox YouTube resumable endpoint; the growth of the relay process's peak resident memory.
enum StreamingBenchmark {
    struct Result {
        var bytes: Int
        var peakGrowth: Int
        var seconds: Double
    }

    static func run(_ env: BenchEnvironment, bytes: Int) async throws -> Result {
        let database = try await env.freshDatabase()
        let relay = try await env.startRelay(database: database, ["PUSHRELAY_WORKERS": "2"], name: "streaming")
        defer { relay.signal(SIGKILL) }
        let identity = try await env.connectIdentity(base: relay.baseURL, provider: "youtube")
        // A small upload first, so what is measured is the large one, not the first use of each code path.
        let warm = env.sandbox.mediaURL("warm.mp4", bytes: 1 << 20)
        try await publish(env, relay.baseURL, identity.token, url: warm, database: database, expectedFinal: 1)
        guard let before = ProcessUsage.resident(pid: relay.pid) else { throw BenchError("cannot read /proc/\(relay.pid)/status") }
        let clock = ContinuousClock()
        let started = clock.now
        try await publish(env, relay.baseURL, identity.token, url: env.sandbox.mediaURL("big.mp4", bytes: bytes), database: database, expectedFinal: 2)
        let elapsed = clock.now - started
        guard let after = ProcessUsage.resident(pid: relay.pid) else { throw BenchError("cannot read /proc/\(relay.pid)/status") }
        return Result(
            bytes: bytes, peakGrowth: max(0, after.peak - before.current),
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func publish(
        _ env: BenchEnvironment, _ base: String, _ identity: String, url: String, database: DatabaseSettings, expectedFinal: Int
    ) async throws {
        let reply = try await env.send(
            .POST, base + "/push/identities/\(identity)/youtube/video.json",
            body: #"{"request":{"push":{"video":{"video_url":"\#(url)","title":"Bench"}}}}"#, headers: [("Prefer", "respond-async")])
        guard reply.status == 202 else { throw BenchError("the video publish answered \(reply.status)") }
        while try await env.finalJobs(database) < expectedFinal { try await Task.sleep(for: .milliseconds(200)) }
    }
}
