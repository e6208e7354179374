import Foundation
import Histogram
import PostgresNIO
import ProviderSandbox

/// The engine end to end: events already queued (or arriving one at a time) → claimed → sandbox
/// provider call → attempt recorded → signed callback delivered to a local subscriber.
enum EngineBenchmark {
    struct Result {
        var eventsPerSecond: Double
        var idleP50: Double
        var idleP99: Double
    }

    static func run(_ env: BenchEnvironment, events: Int, idleSamples: Int, workers: Int) async throws -> Result {
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

        let clock = ContinuousClock()
        let started = clock.now
        let relay = try await env.startRelay(database: database, ["PUSHRELAY_WORKERS": String(workers)], name: "engine")
        defer { relay.signal(SIGKILL) }
        // The benchmark may poll (it is not a test): every 20 ms, until every event is final and called back.
        while counter.count < events {
            try await Task.sleep(for: .milliseconds(20))
            if clock.now - started > .seconds(600) { throw BenchError("the engine did not finish \(events) events in 10 minutes") }
        }
        let elapsed = clock.now - started
        let final = try await env.finalJobs(database)
        guard final == events else { throw BenchError("\(final) of \(events) events final") }
        let eventsPerSecond = Double(events) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)

        // Idle: one event at a time, from the request leaving here to the sandbox receiving the tweet.
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let watcher = try await PostgresConnection.connect(configuration: database.connectionConfiguration(), id: 2, logger: env.logger)
        defer { Task { try? await watcher.close() } }
        try await env.waitUntilCallbacksSettle(on: watcher)
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
            while counter.count < events + number + 1 { try await Task.sleep(for: .milliseconds(5)) }
            try await env.waitUntilCallbacksSettle(on: watcher)
        }
        return Result(
            eventsPerSecond: eventsPerSecond, idleP50: Double(histogram.valueAtPercentile(50)) / 1000,
            idleP99: Double(histogram.valueAtPercentile(99)) / 1000)
    }
}
