import AsyncHTTPClient
import Foundation
import PostgresNIO
import ProviderSandbox
import RelayCore
import RelayStore
import Synchronization
import Testing
import ServeProcess
import TestSupport

/// The delivery guarantees under the failures they are written for (DESIGN §5), with real `pushrelay
/// serve` processes: `kill -9` with publishes in flight, SIGTERM, a PostgreSQL restart under load,
/// and several processes sharing one database. The sandbox, in this test process, is the witness of
/// what reached the provider.
@Suite(.serialized) struct ProcessFailureTests {
    /// What each event became, read from PostgreSQL.
    struct JobRow {
        var state: String
        var attemptCount: Int
        var leaseOwner: String?
    }

    @Test func killNineWithPublishesInFlightLosesNothingAndPostsNothingTwice() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await TestDatabase.create(logger: env.logger)
        var variables = RelayProcess.variables(for: env, database: database, encryptionKey: CredentialCipher.generateKey())
        variables["PUSHRELAY_WORKERS"] = "16"
        variables["PUSHRELAY_LEASE_SECONDS"] = "5"
        let first = try await RelayProcess.start(variables, name: "kill9-first")
        let identity = try await env.connectIdentity(base: first.baseURL)
        // Every tweet takes a quarter of a second at the provider: at any moment 16 calls are in flight.
        slowTweets(of: identity, times: 200, by: .milliseconds(250), env: env)

        let events = try await publish(count: 200, as: identity, prefix: "kill9", to: [first.baseURL], env: env)
        #expect(events.count == 200, "every publish must be acknowledged while the relay runs")
        let tweets: @Sendable (RecordedRequest) -> Bool = { $0.bearerToken == identity.accessToken && $0.method == "POST" && $0.path == "/2/tweets" }
        #expect(await env.sandbox.recorder.waitFor(count: 40, where: tweets))
        first.signal(SIGKILL)
        _ = await first.waitForExit()
        #expect(first.endedBySignal)

        let second = try await RelayProcess.start(variables, name: "kill9-second")
        defer { second.signal(SIGTERM) }
        let finals = try await finalStates(of: events, at: second.baseURL, env: env)
        let seen = tweetCounts(of: identity, env: env)

        #expect(finals.count == 200)
        var indeterminate = 0
        for (text, state) in finals {
            switch state {
            case "succeeded":
                #expect(seen[text] == 1, "\(text) succeeded but reached the provider \(seen[text] ?? 0) times")
            case "indeterminate":
                // Killed during (or right before) its provider call: never tried again automatically.
                indeterminate += 1
                #expect((seen[text] ?? 0) <= 1, "\(text) reached the provider \(seen[text] ?? 0) times")
            default:
                Issue.record("\(text) ended \(state)\n\(second.logTail())")
            }
        }
        #expect(seen.values.allSatisfy { $0 == 1 }, "a tweet was posted twice")
        #expect(Set(seen.keys).isSubset(of: Set(finals.keys)))
        // The kill came while calls were running: those are the indeterminate ones.
        #expect(indeterminate >= 1)
        #expect(indeterminate <= 16)
    }

    @Test func sigtermFinishesInFlightPublishesAndLeavesTheRestQueued() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await TestDatabase.create(logger: env.logger)
        var variables = RelayProcess.variables(for: env, database: database, encryptionKey: CredentialCipher.generateKey())
        variables["PUSHRELAY_WORKERS"] = "4"
        let first = try await RelayProcess.start(variables, name: "sigterm-first")
        let identity = try await env.connectIdentity(base: first.baseURL)
        // The first four tweets stay in flight at the provider until released: the worker's four slots are busy.
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", method: "POST", token: identity.accessToken, times: 4, action: .hold))

        let events = try await publish(count: 12, as: identity, prefix: "sigterm", to: [first.baseURL], env: env)
        #expect(events.count == 12)
        let tweets: @Sendable (RecordedRequest) -> Bool = { $0.bearerToken == identity.accessToken && $0.method == "POST" && $0.path == "/2/tweets" }
        #expect(await env.sandbox.recorder.waitFor(count: 4, where: tweets))
        // The provider answers once the worker has stopped claiming.
        #expect(await first.waitForLog(containing: "publish worker stopping", after: { first.signal(SIGTERM) }), "\(first.logTail())")
        env.sandbox.faults.releaseHeld(token: identity.accessToken)
        #expect(await first.waitForExit() == 0, "\(first.logTail())")

        // The four calls in flight finished and were recorded; nothing else was started or left leased.
        let inFlight = Set(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).filter(tweets).compactMap { $0.body?["text"]?.stringValue })
        #expect(inFlight.count == 4)
        let rows = try await jobRows(database, env: env)
        for (text, id) in events {
            let row = try #require(rows[id])
            if inFlight.contains(text) {
                #expect(row.state == "succeeded", "\(text) was in flight at SIGTERM: \(row.state)")
            } else {
                #expect(row.state == "queued", "\(text) should wait for the next process: \(row.state)")
                #expect(row.attemptCount == 0)
            }
            #expect(row.leaseOwner == nil)
        }

        let second = try await RelayProcess.start(variables, name: "sigterm-second")
        defer { second.signal(SIGTERM) }
        let finals = try await finalStates(of: events, at: second.baseURL, env: env)
        #expect(finals.values.allSatisfy { $0 == "succeeded" }, "\(finals)")
        let seen = tweetCounts(of: identity, env: env)
        #expect(seen.count == 12)
        #expect(seen.values.allSatisfy { $0 == 1 })
    }

    /// A long poll does not hold a stopping process: it is answered at once with the event's state as it is,
    /// and the process exits (a 60 s poll outlasted Kubernetes' default grace period of 30 s, after which the
    /// publishes in flight would have been killed).
    @Test func sigtermAnswersLongPollsAtOnce() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await TestDatabase.create(logger: env.logger)
        var variables = RelayProcess.variables(for: env, database: database, encryptionKey: CredentialCipher.generateKey())
        variables["LOG_LEVEL"] = "debug"
        let relay = try await RelayProcess.start(variables, name: "sigterm-long-poll")
        let identity = try await env.connectIdentity(base: relay.baseURL)
        let scheduled = try await env.push(
            identity, "twitter/post", #"{"request":{"schedule":{"at":"2099-01-01T00:00:00Z"},"push":{"post":{"message":"later"}}}}"#,
            base: relay.baseURL)
        let eventID = try #require(scheduled.json["response"]?["result"]?["data"]?["event_id"]?.stringValue)

        let poll = Mutex<Task<TestReply, any Error>?>(nil)
        #expect(
            await relay.waitForLog(containing: "waiting for an outcome") {
                poll.withLock { $0 = Task { try await env.send(.GET, "/push/events/\(eventID).json?wait=60", base: relay.baseURL) } }
            }, "\(relay.logTail())")
        relay.signal(SIGTERM)
        let pollTask = try #require(poll.withLock { $0 })
        // A deadline for a failing test (the poll's own is 60 s), not a synchronisation.
        let deadline = ContinuousClock.now + .seconds(20)
        let answered = try await withThrowingTaskGroup(of: TestReply?.self) { group in
            group.addTask { try await pollTask.value }
            group.addTask {
                try await Task.sleep(until: deadline)
                return nil
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        let reply = try #require(answered, "the long poll held the stopping process")
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.json["response"]?["result"]?["data"]?["state"] == "scheduled")
        #expect(await relay.waitForExit() == 0, "\(relay.logTail())")
    }

    @Test func threeProcessesOnOneDatabaseClaimEachJobOnce() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await TestDatabase.create(logger: env.logger)
        var variables = RelayProcess.variables(for: env, database: database, encryptionKey: CredentialCipher.generateKey())
        variables["PUSHRELAY_WORKERS"] = "4"
        // Started together: they race for the migrations too.
        async let a = RelayProcess.start(variables, name: "three-a")
        async let b = RelayProcess.start(variables, name: "three-b")
        async let c = RelayProcess.start(variables, name: "three-c")
        let processes = try await [a, b, c]
        defer { for process in processes { process.signal(SIGTERM) } }
        let identity = try await env.connectIdentity(base: processes[0].baseURL)
        slowTweets(of: identity, times: 300, by: .milliseconds(20), env: env)

        let events = try await publish(count: 300, as: identity, prefix: "three", to: processes.map(\.baseURL), env: env)
        #expect(events.count == 300)
        let finals = try await finalStates(of: events, at: processes[2].baseURL, env: env)
        #expect(finals.values.allSatisfy { $0 == "succeeded" })

        let rows = try await jobRows(database, env: env)
        #expect(rows.count == 300)
        #expect(rows.values.allSatisfy { $0.attemptCount == 1 }, "a job was claimed more than once")
        let seen = tweetCounts(of: identity, env: env)
        #expect(seen.count == 300)
        #expect(seen.values.allSatisfy { $0 == 1 }, "a tweet was posted twice")
    }

    @Test func postgresRestartUnderLoadLosesNothingAcknowledged() async throws {
        let env = try await TestEnvironment.shared.value
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-restart-\(UUID().uuidString.prefix(8))")
        let postgres = ManagedPostgres(directory: directory, logger: env.logger)
        defer {
            postgres.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        let server = try await postgres.start(database: "postgres").settings
        let database = server.with(database: "pushrelay_restart")
        try await database.createDatabaseIfNeeded(logger: env.logger)
        var variables = RelayProcess.variables(for: env, database: database, encryptionKey: CredentialCipher.generateKey())
        variables["PUSHRELAY_WORKERS"] = "8"
        let relay = try await RelayProcess.start(variables, name: "pg-restart")
        defer { relay.signal(SIGTERM) }
        let identity = try await env.connectIdentity(base: relay.baseURL)
        slowTweets(of: identity, times: 1000, by: .milliseconds(50), env: env)
        let tweets: @Sendable (RecordedRequest) -> Bool = { $0.bearerToken == identity.accessToken && $0.method == "POST" && $0.path == "/2/tweets" }

        // Load: 8 clients publishing one after the other, while PostgreSQL goes down and comes back.
        let acknowledged = Acknowledged()
        let unanswered = Counter()
        let restarted = Flag()
        let load = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<8 {
                    group.addTask {
                        var number = 0
                        while !restarted.isSet || number < 10 {
                            number += 1
                            let text = "restart \(client)-\(number) \(UUID().uuidString.prefix(6))"
                            let reply: TestReply
                            do {
                                reply = try await env.push(
                                    identity, "twitter/post", #"{"request":{"push":{"post":{"message":"\#(text)"}}}}"#,
                                    headers: [("Prefer", "respond-async")], base: relay.baseURL, timeout: .seconds(10))
                            } catch let error as HTTPClientError where error == .deadlineExceeded {
                                // No answer is no acknowledgement (a client would retry with an Idempotency-Key).
                                unanswered.add()
                                continue
                            }
                            if reply.status == 202, let id = reply.headers.first(name: "PushRelay-Event-Id") {
                                acknowledged.add(text, id)
                            } else {
                                // Refused while the database was away: not acknowledged, so the client still owns it.
                                #expect(reply.status == 503, "\(reply.status) \(reply.text)")
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        #expect(await env.sandbox.recorder.waitFor(count: 20, where: tweets))
        postgres.stop()
        _ = try await postgres.start(database: "postgres")
        restarted.set()
        try await load.value

        // Back by itself: new requests are accepted and everything acknowledged, before or after, is published.
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"after the restart"}}}}"#,
            headers: [("Prefer", "respond-async")], base: relay.baseURL)
        #expect(reply.status == 202, "\(reply.text)\n\(relay.logTail())")
        if let id = reply.headers.first(name: "PushRelay-Event-Id") { acknowledged.add("after the restart", id) }
        let events = acknowledged.all
        let finals = try await finalStates(of: events, at: relay.baseURL, env: env)
        #expect(finals.count == events.count, "\(unanswered.count) requests went unanswered during the restart")
        #expect(finals.values.allSatisfy { $0 == "succeeded" }, "\(finals.filter { $0.value != "succeeded" })\n\(relay.logTail())")
        let seen = tweetCounts(of: identity, env: env)
        #expect(seen.values.allSatisfy { $0 == 1 }, "a tweet was posted twice")
        for text in events.keys { #expect(seen[text] == 1, "\(text) acknowledged but published \(seen[text] ?? 0) times") }
        relay.signal(SIGTERM)
        #expect(await relay.waitForExit() == 0, "\(relay.logTail())")
    }

    // MARK: - Helpers

    /// Makes the sandbox hold each of the next `times` tweets of `identity` for `delay` before answering.
    func slowTweets(of identity: TestIdentity, times: Int, by delay: Duration, env: TestEnvironment) {
        env.sandbox.faults.add(
            SandboxFault(provider: "x", pathContains: "/2/tweets", method: "POST", token: identity.accessToken, times: times, action: .delay(delay)))
    }

    /// How many times the sandbox received each tweet text of `identity`.
    func tweetCounts(of identity: TestIdentity, env: TestEnvironment) -> [String: Int] {
        let tweets = env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).filter { $0.method == "POST" && $0.path == "/2/tweets" }
        return Dictionary(grouping: tweets) { $0.body?["text"]?.stringValue ?? "" }.mapValues(\.count)
    }

    /// Sends `count` asynchronous publishes (32 at a time, spread over `bases`); returns text → event id
    /// of those acknowledged with 202.
    func publish(count: Int, as identity: TestIdentity, prefix: String, to bases: [String], env: TestEnvironment) async throws -> [String: String] {
        try await withThrowingTaskGroup(of: (String, String?).self) { group in
            var events: [String: String] = [:]
            for number in 0..<count {
                if number >= 32, let (text, id) = try await group.next() { events[text] = id }
                group.addTask {
                    let text = "\(prefix) \(number) \(UUID().uuidString.prefix(6))"
                    let reply = try await env.push(
                        identity, "twitter/post", #"{"request":{"push":{"post":{"message":"\#(text)"}}}}"#,
                        headers: [("Prefer", "respond-async")], base: bases[number % bases.count])
                    return (text, reply.status == 202 ? reply.headers.first(name: "PushRelay-Event-Id") : nil)
                }
            }
            for try await (text, id) in group { events[text] = id }
            return events.compactMapValues { $0 }
        }
    }

    /// Waits (long poll) until every event is final; returns text → state.
    func finalStates(of events: [String: String], at base: String, env: TestEnvironment) async throws -> [String: String] {
        try await withThrowingTaskGroup(of: (String, String).self) { group in
            for (text, id) in events {
                group.addTask {
                    let final: Set<String> = ["succeeded", "failed", "indeterminate", "cancelled"]
                    var state = "missing"
                    for _ in 0..<3 where !final.contains(state) {
                        state = try await env.finalEvent(id, within: 60, base: base)["state"]?.stringValue ?? "missing"
                    }
                    return (text, state)
                }
            }
            var states: [String: String] = [:]
            for try await (text, state) in group { states[text] = state }
            return states
        }
    }

    /// Every publish job of a database, by event id, straight from `publish_jobs`.
    func jobRows(_ database: DatabaseSettings, env: TestEnvironment) async throws -> [String: JobRow] {
        let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration(), id: 1, logger: env.logger)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(
            "SELECT event_id::text, state, attempt_count, lease_owner FROM publish_jobs", logger: env.logger)
        var jobs: [String: JobRow] = [:]
        for try await (id, state, attempts, owner) in rows.decode((String, String, Int, String?).self) {
            jobs[id] = JobRow(state: state, attemptCount: attempts, leaseOwner: owner)
        }
        return jobs
    }
}

/// Events acknowledged during a load run, shared by its clients.
final class Acknowledged: Sendable {
    private let events = Mutex<[String: String]>([:])
    func add(_ text: String, _ id: String) { events.withLock { $0[text] = id } }
    var all: [String: String] { events.withLock { $0 } }
}

/// A count shared between tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    func add() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

/// A one-way switch shared between tasks.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
