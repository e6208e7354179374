import Foundation
import Histogram
import PostgresNIO
import ProviderSandbox

/// The engine end to end: events already queued → claimed → sandbox provider call → attempt recorded →
/// signed callback delivered to a local subscriber (throughput); then events arriving live, at half that
/// rate (latency under load), and one at a time (idle latency).
enum EngineBenchmark {
    struct Result {
        var eventsPerSecond: Double
        var idleP50: Double
        var idleP99: Double
        /// Events sent live at half of `eventsPerSecond` (open loop), each timed from its scheduled send to
        /// the sandbox receiving its tweet.
        var loadedRate: Double
        var loadedP50: Double
        var loadedP99: Double
        /// CPU per event while the queued events drain, in µs: the relay, PostgreSQL, and this process (the
        /// sandbox answering the provider calls, the subscriber receiving the callbacks).
        var cpuPerEvent: (relay: Double?, postgres: Double, bench: Double)
    }

    static func run(_ env: BenchEnvironment, events: Int, idleSamples: Int, workers: Int, loadSeconds: Int) async throws -> Result {
        let database = try await env.freshDatabase()
        let counter = CallbackCounter()
        let callbackURL = try await counter.start(logger: env.logger)
        defer { counter.stop() }

        // Pre-load: a relay that only accepts queues the events; the workers start afterwards.
        let intake = try await env.startRelay(database: database, ["PUSHRELAY_ROLE": "api"], name: "engine-intake")
        let identity = try await env.connectIdentity(base: intake.baseURL)
        let subscribed = try await env.send(
            .POST, intake.baseURL + "/subscriptions.json", body: #"{"url":"\#(callbackURL)","events":["push.succeeded","push.failed"]}"#)
        guard subscribed.status == 201 else { throw BenchError("subscribing answered \(subscribed.status)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<32 {
                group.addTask {
                    for number in stride(from: client, to: events, by: 32) {
                        let reply = try await env.send(
                            .POST, intake.baseURL + "/push/identities/\(identity.token)/twitter/post.json",
                            body: #"{"request":{"push":{"post":{"message":"engine \#(number) \#(UUID().uuidString.prefix(8))"}}}}"#,
                            headers: [("Prefer", "respond-async")])
                        guard reply.status == 202 else { throw BenchError("pre-load answered \(reply.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        intake.signal(SIGTERM)
        _ = await intake.waitForExit()
        await env.settle()

        let clock = ContinuousClock()
        let started = clock.now
        let relay = try await env.startRelay(database: database, ["PUSHRELAY_WORKERS": String(workers)], name: "engine")
        // From the relay's readiness: its start (migrations checked, pools opened) is not an event's cost.
        let cpuBefore = CPUSample.take(relay: relay.pid)
        defer { relay.signal(SIGKILL) }
        // The benchmark may poll (it is not a test): every 20 ms, until every event is final and called back.
        while counter.count < events {
            try await Task.sleep(for: .milliseconds(20))
            if clock.now - started > .seconds(600) { throw BenchError("the engine did not finish \(events) events in 10 minutes") }
        }
        let elapsed = clock.now - started
        let cpuPerEvent = CPUSample.take(relay: relay.pid).perItem(since: cpuBefore, items: events)
        let final = try await env.finalJobs(database)
        guard final == events else { throw BenchError("\(final) of \(events) events final") }
        let eventsPerSecond = Double(events) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)

        // Under load: live events at half that rate, for `loadSeconds`.
        env.sandbox.recorder.reset()
        await env.settle()
        let loaded = try await liveLoad(env, relay.baseURL, identity, rate: eventsPerSecond / 2, seconds: loadSeconds)
        var called = events + loaded.count
        while counter.count < called {
            try await Task.sleep(for: .milliseconds(20))
            if clock.now - started > .seconds(900) { throw BenchError("the live events were not all called back") }
        }

        // Idle: one event at a time, from the request leaving here to the sandbox receiving the tweet.
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let watcher = try await PostgresConnection.connect(configuration: database.connectionConfiguration(), id: 2, logger: env.logger)
        defer { Task { try? await watcher.close() } }
        try await env.waitUntilCallbacksSettle(on: watcher)
        await env.settle()
        // The throughput run's requests are counted: forgotten, so that waiting for each idle sample's tweet
        // does not scan thousands of recorded requests while the relay works on it (on two CPUs, that scan
        // added 2-4 ms to every sample after a run of 5000 events).
        env.sandbox.recorder.reset()
        for number in 0..<idleSamples {
            let text = "idle \(number) \(UUID().uuidString.prefix(8))"
            let sent = Date()
            let reply = try await env.send(
                .POST, relay.baseURL + "/push/identities/\(identity.token)/twitter/post.json",
                body: #"{"request":{"push":{"post":{"message":"\#(text)"}}}}"#, headers: [("Prefer", "respond-async")])
            guard reply.status == 202 else { throw BenchError("idle publish answered \(reply.status)") }
            let arrived = await env.sandbox.recorder.waitFor(count: 1, timeout: .seconds(30)) { $0.body?["text"]?.stringValue == text }
            guard arrived, let call = env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).last(where: {
                $0.body?["text"]?.stringValue == text
            }) else { throw BenchError("the idle publish never reached the sandbox") }
            histogram.record(UInt64(max(0, call.receivedAt.timeIntervalSince(sent)) * 1_000_000))
            // Let the engine go idle again before the next sample: its callback delivered, and recorded.
            called += 1
            while counter.count < called { try await Task.sleep(for: .milliseconds(5)) }
            try await env.waitUntilCallbacksSettle(on: watcher)
        }
        return Result(
            eventsPerSecond: eventsPerSecond, idleP50: Double(histogram.valueAtPercentile(50)) / 1000,
            idleP99: Double(histogram.valueAtPercentile(99)) / 1000, loadedRate: loaded.rate,
            loadedP50: Double(loaded.latencies.valueAtPercentile(50)) / 1000, loadedP99: Double(loaded.latencies.valueAtPercentile(99)) / 1000,
            cpuPerEvent: cpuPerEvent)
    }

    /// Sends `rate` events a second for `seconds` from 8 connections, each at its scheduled time (open loop:
    /// a relay that falls behind does not slow the sending, and its backlog shows in the latencies); then
    /// waits for every tweet and measures each from its scheduled send to the sandbox receiving it (µs).
    static func liveLoad(
        _ env: BenchEnvironment, _ base: String, _ identity: (token: String, accessToken: String), rate: Double, seconds: Int
    ) async throws -> (count: Int, rate: Double, latencies: Histogram<UInt64>) {
        let clients = 8
        let total = max(1, Int(rate * Double(seconds)))
        let clock = ContinuousClock()
        let start = clock.now
        let wallStart = Date()
        let run = UUID().uuidString.prefix(8)
        let scheduled = try await withThrowingTaskGroup(of: [(String, Date)].self) { group in
            for client in 0..<clients {
                group.addTask {
                    var sent: [(String, Date)] = []
                    for number in stride(from: client, to: total, by: clients) {
                        let due = start + .seconds(Double(number) / rate)
                        if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                        let text = "live \(run) \(number)"
                        let reply = try await env.send(
                            .POST, base + "/push/identities/\(identity.token)/twitter/post.json",
                            body: #"{"request":{"push":{"post":{"message":"\#(text)"}}}}"#, headers: [("Prefer", "respond-async")])
                        guard reply.status == 202 else { throw BenchError("a live publish answered \(reply.status)") }
                        sent.append((text, wallStart.addingTimeInterval(Double(number) / rate)))
                    }
                    return sent
                }
            }
            var all: [String: Date] = [:]
            for try await sent in group { for (text, at) in sent { all[text] = at } }
            return all
        }
        let prefix = "live \(run) "
        guard await env.sandbox.recorder.waitFor(count: total, timeout: .seconds(600), where: { $0.body?["text"]?.stringValue?.hasPrefix(prefix) == true })
        else { throw BenchError("the live events did not all reach the sandbox") }
        var latencies = Histogram<UInt64>(highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: .three)
        for call in env.sandbox.recorder.requests(provider: "x", token: identity.accessToken) {
            guard let text = call.body?["text"]?.stringValue, let due = scheduled[text] else { continue }
            latencies.record(UInt64(max(0, call.receivedAt.timeIntervalSince(due)) * 1_000_000))
        }
        return (total, Double(total) / Double(seconds), latencies)
    }
}
