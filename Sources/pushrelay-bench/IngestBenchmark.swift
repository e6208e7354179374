import Foundation
import Histogram
import NIOCore
import RelayEngine

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
        /// The same, at half the rate just measured: the latency of acknowledgements when the
        /// relay has room, apart from the capacity of the machine. Informative; no target.
        var halfRate: Double?
        var halfRateP50: Double?
        var halfRateP99: Double?
        /// The relay's and PostgreSQL's CPU per accepted request at that rate, in µs.
        var halfRateRelayCPU: Double?
        var halfRatePostgresCPU: Double?
        /// The relay's CPU time (user + system) per accepted request during the timed load, in µs: steadier
        /// than req/s on a shared machine, and what a change to the request path changes.
        var relayCPUPerRequest: Double?
        /// PostgreSQL's and the load generator's (this process's) CPU per accepted request, in µs.
        var postgresCPUPerRequest: Double?
        var loadCPUPerRequest: Double?
    }

    static let clients = 32

    static func run(_ env: BenchEnvironment, seconds: Int, pacedRate: Double?) async throws -> Result {
        let database = try await env.freshDatabase()
        let relay = try await env.startRelay(database: database, ["PUSHRELAY_ROLE": "api"], name: "ingest")
        defer { relay.signal(SIGKILL) }
        let identity = try await env.connectIdentity(base: relay.baseURL)
        // Warm up connections and the relay's pool.
        _ = try await load(env, relay.baseURL, identity.token, seconds: 1, rate: nil)
        await env.settle()
        let cpuBefore = CPUSample.take(relay: relay.pid)
        let (count, elapsed, latencies) = try await load(env, relay.baseURL, identity.token, seconds: seconds, rate: nil)
        let cpu = CPUSample.take(relay: relay.pid).perItem(since: cpuBefore, items: count)
        let histogram = histogram(latencies)
        var result = Result(
            acceptedPerSecond: Double(count) / elapsed, p50: Double(histogram.valueAtPercentile(50)) / 1000,
            p99: Double(histogram.valueAtPercentile(99)) / 1000)
        if count > 0 {
            result.relayCPUPerRequest = cpu.relay
            result.postgresCPUPerRequest = cpu.postgres
            result.loadCPUPerRequest = cpu.bench
            await env.settle()
            let halfBefore = CPUSample.take(relay: relay.pid)
            let half = try await load(env, relay.baseURL, identity.token, seconds: seconds, rate: result.acceptedPerSecond / 2)
            let halfHistogram = Self.histogram(half.latencies)
            result.halfRate = Double(half.count) / half.elapsed
            result.halfRateP50 = Double(halfHistogram.valueAtPercentile(50)) / 1000
            result.halfRateP99 = Double(halfHistogram.valueAtPercentile(99)) / 1000
            let halfCPU = CPUSample.take(relay: relay.pid).perItem(since: halfBefore, items: half.count)
            result.halfRateRelayCPU = halfCPU.relay
            result.halfRatePostgresCPU = halfCPU.postgres
        }
        if let pacedRate {
            await env.settle()
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
    /// requests per second in all; returns (accepted, seconds, latencies in µs). Even requests are async
    /// Push API calls, odd ones signed `publish-requested` webhooks, each with a message of its own.
    static func load(
        _ env: BenchEnvironment, _ base: String, _ identity: String, seconds: Int, rate: Double?
    ) async throws -> (count: Int, elapsed: Double, latencies: [UInt64]) {
        let host = try hostHeader(base)
        let push = "/push/identities/\(identity)/twitter/post.json"
        let authorization = "Basic " + Data("\(env.apiKey.publicKey):\(env.apiKey.privateKey)".utf8).base64EncodedString()
        let signer = StandardWebhooks(secrets: [env.webhookSecret])
        let run = UUID().uuidString.prefix(8)
        let lean = try LeanLoad(base: base, clients: clients) { client, number in
            let text = "bench \(run) \(client)-\(number)"
            if number % 2 == 0 {
                let body = #"{"request":{"push":{"post":{"message":"\#(text)"}}}}"#
                return ByteBuffer(string: """
                    POST \(push) HTTP/1.1\r\nHost: \(host)\r\nAuthorization: \(authorization)\r\nPrefer: respond-async\r\n\
                    Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)
                    """)
            }
            let body = #"{"type":"publish.requested","data":{"identity_token":"\#(identity)","path":"twitter/post","request":{"push":{"post":{"message":"\#(text)"}}}}}"#
            let id = "msg_\(run)_\(client)_\(number)"
            let timestamp = Int(Date().timeIntervalSince1970)
            let signature = signer.signature(id: id, timestamp: timestamp, body: Array(body.utf8))
            return ByteBuffer(string: """
                POST /webhooks/publish-requested HTTP/1.1\r\nHost: \(host)\r\nwebhook-id: \(id)\r\n\
                webhook-timestamp: \(timestamp)\r\nwebhook-signature: \(signature)\r\n\
                Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)
                """)
        }
        return try await lean.run(seconds: seconds, rate: rate)
    }

    /// `host:port` of `http://host:port`.
    static func hostHeader(_ base: String) throws -> String {
        guard base.hasPrefix("http://") else { throw BenchError("not an http:// URL: \(base)") }
        return String(base.dropFirst(7))
    }
}
