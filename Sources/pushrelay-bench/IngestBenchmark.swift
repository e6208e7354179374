import Foundation
import Histogram

/// Durable ingest: signed publish-requested webhooks and async Push API requests (half each) from 32
/// concurrent connections to a relay running only its API (`PUSHRELAY_ROLE=api`), each answered 202
/// after its commit.
enum IngestBenchmark {
    struct Result {
        var acceptedPerSecond: Double
        var p50: Double
        var p99: Double
        /// p99 ack latency when sending at a fixed rate (half of anchor A), measured from each request's
        /// scheduled time (so a stall is not hidden by the clients waiting for it).
        var pacedRate: Double?
        var pacedP99: Double?
    }

    static let clients = 32

    static func run(_ env: BenchEnvironment, seconds: Int, pacedRate: Double?) async throws -> Result {
        let database = try await env.freshDatabase()
        let relay = try await env.startRelay(database: database, ["PUSHRELAY_ROLE": "api"], name: "ingest")
        defer { relay.signal(SIGKILL) }
        let identity = try await env.connectIdentity(base: relay.baseURL)
        // Warm up connections and the relay's pool.
        _ = try await load(env, relay.baseURL, identity.token, seconds: 1, rate: nil)
        let (count, elapsed, latencies) = try await load(env, relay.baseURL, identity.token, seconds: seconds, rate: nil)
        let histogram = histogram(latencies)
        var result = Result(
            acceptedPerSecond: Double(count) / elapsed, p50: Double(histogram.valueAtPercentile(50)) / 1000,
            p99: Double(histogram.valueAtPercentile(99)) / 1000)
        if let pacedRate {
            let paced = try await load(env, relay.baseURL, identity.token, seconds: seconds, rate: pacedRate)
            result.pacedRate = Double(paced.count) / paced.elapsed
            result.pacedP99 = Double(Self.histogram(paced.latencies).valueAtPercentile(99)) / 1000
        }
        return result
    }

    static func histogram(_ latencies: [UInt64]) -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        for value in latencies { histogram.record(value) }
        return histogram
    }

    /// Sends for `seconds` from `clients` connections, as fast as answers come (closed loop) or at `rate`
    /// requests per second in all; returns (accepted, seconds, latencies in µs).
    static func load(
        _ env: BenchEnvironment, _ base: String, _ identity: String, seconds: Int, rate: Double?
    ) async throws -> (count: Int, elapsed: Double, latencies: [UInt64]) {
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .seconds(seconds)
        let all = try await withThrowingTaskGroup(of: [UInt64].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var latencies: [UInt64] = []
                    var number = 0
                    while true {
                        var scheduled = clock.now
                        if let rate {
                            // Open loop: the n-th request of this client is due at a fixed time.
                            scheduled = start + .seconds(Double(number * clients + client) / rate)
                            if scheduled > clock.now { try await Task.sleep(until: scheduled, clock: clock) }
                        }
                        guard scheduled < end else { break }
                        let text = "bench \(client)-\(number) \(UUID().uuidString.prefix(8))"
                        let status: Int
                        if number % 2 == 0 {
                            status = try await env.send(
                                .POST, base + "/push/identities/\(identity)/twitter/post.json",
                                body: #"{"request":{"push":{"post":{"message":"\#(text)"}}}}"#, headers: [("Prefer", "respond-async")]
                            ).status
                        } else {
                            status = try await env.webhook(
                                base: base, name: "publish-requested",
                                body: #"{"type":"publish.requested","data":{"identity_token":"\#(identity)","path":"twitter/post","request":{"push":{"post":{"message":"\#(text)"}}}}}"#
                            ).status
                        }
                        guard status == 202 else { throw BenchError("ingest answered \(status)") }
                        let took = clock.now - scheduled
                        latencies.append(UInt64(took.components.seconds) * 1_000_000 + UInt64(took.components.attoseconds / 1_000_000_000_000))
                        number += 1
                    }
                    return latencies
                }
            }
            var all: [UInt64] = []
            for try await latencies in group { all.append(contentsOf: latencies) }
            return all
        }
        let elapsed = clock.now - start
        return (all.count, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, all)
    }
}
