import Foundation
import PostgresNIO
import ProviderSandbox
import RelayCore
import RelayEngine
import RelayProviders
import RelayStore
import Testing
import TestSupport

/// The publish worker's claim loop under a bell that never stops ringing.
@Suite struct ClaimLoopTests {
    /// A job whose time comes notifies nobody: only the poll finds it. The worker's bell is rung by every
    /// adoption and notification, so on a busy relay it may ring more often than the poll interval; the
    /// loop must claim at least once a poll interval all the same. (It once waited a whole interval from
    /// every ring, and never claimed while the bell kept ringing.) The worker has no adapters, so the job
    /// ends `failed` as soon as it is claimed; a database of its own keeps it from claiming other tests' jobs.
    @Test func aBellThatNeverStopsRingingDoesNotStarveThePoll() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await PrivateDatabase.create(logger: env.logger)
        defer { database.close() }
        let (client, store) = (database.client, database.store)
        let identityToken = try await database.connectTwitterIdentity(userID: "poll-1", accessToken: "poll-token")

        var configuration = Configuration()
        configuration.workers = 2
        configuration.pollInterval = .milliseconds(200)
        let broker = OutcomeBroker()
        let worker = PublishWorker(
            store: store, adapters: [:], http: env.http, media: MediaFetcher(http: env.http, policy: AddressPolicy(allowPrivate: true)),
            broker: broker, configuration: configuration, logger: env.logger)
        let ringer = Task {
            while !Task.isCancelled {
                broker.workBell.ring()
                await Task.yield()
            }
        }
        defer { ringer.cancel() }
        let work = Task { try await worker.run() }

        // Due in a second: the worker's first claim, at its start, finds nothing due.
        let route = try #require(MatchedOperation.match("twitter/post"))
        let body: JSONValue = [
            "request": ["push": ["post": ["message": "found by the poll"]], "schedule": ["at": .string(RFC3339.format(Date().addingTimeInterval(1)))]]
        ]
        let publish = NewPublish(
            request: try PushRequestParser.parse(body, route: route), identityToken: identityToken, source: "push_api",
            idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: body)
        let finished = broker.register(publish.eventID)
        defer { broker.unregister(publish.eventID) }
        let results = try await store.events.enqueue([publish])
        #expect(results.count == 1)
        if case .failure(let error)? = results.first { Issue.record("not recorded: \(error)") }

        #expect(await finished.wait(upTo: .seconds(30)), "the job was never claimed while the bell rang")
        ringer.cancel()
        work.cancel()
        try await work.value
        var states: [(String, Int)] = []
        for try await row in try await client.query(
            "SELECT state, attempt_count FROM publish_jobs WHERE event_id = \(publish.eventID)"
        ).decode((String, Int).self) {
            states.append(row)
        }
        #expect(states.count == 1)
        #expect(states.first?.0 == "failed", "claimed once, and failed for want of an adapter")
        #expect(states.first?.1 == 1)
    }

    /// A job's slot goes to the next job once its provider calls are over, while its end of try is written:
    /// the end waits for a group commit, and the jobs claimed meanwhile make the batches larger (the
    /// engine's CPU per event is mostly per batch). Here the worker has one slot; the first job's end is
    /// held by a lock on its row, taken while the sandbox holds its call. The second job must be claimed
    /// all the same, and both end once the lock goes.
    @Test func aJobsSlotGoesToTheNextJobWhileItsEndIsWritten() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await PrivateDatabase.create(logger: env.logger)
        defer { database.close() }
        let (client, store) = (database.client, database.store)
        let accessToken = "slot-\(UUID().uuidString)"
        let identityToken = try await database.connectTwitterIdentity(userID: "slot-1", accessToken: accessToken)

        var configuration = Configuration()
        env.sandbox.configure(&configuration)
        configuration.workers = 1
        let broker = OutcomeBroker()
        let worker = PublishWorker(
            store: store, adapters: [.twitter: TwitterAdapter(baseURL: configuration.providers[.twitter]!.apiURL)], http: env.http,
            media: MediaFetcher(http: env.http, policy: AddressPolicy(allowPrivate: true)), broker: broker, configuration: configuration,
            logger: env.logger)
        env.sandbox.faults.add(SandboxFault(provider: "x", token: accessToken, action: .hold))
        let work = Task { try await worker.run() }

        let route = try #require(MatchedOperation.match("twitter/post"))
        func publish(_ text: String) throws -> NewPublish {
            let body: JSONValue = ["request": ["push": ["post": ["message": .string(text)]]]]
            return NewPublish(
                request: try PushRequestParser.parse(body, route: route), identityToken: identityToken, source: "push_api",
                idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: body)
        }
        func job(_ eventID: UUID) async throws -> (state: String, owner: String?)? {
            var job: (String, String?)?
            for try await row in try await client.query(
                "SELECT state, lease_owner FROM publish_jobs WHERE event_id = \(eventID)"
            ).decode((String, String?).self) {
                job = row
            }
            return job
        }

        // The first job is claimed and marked; its call is held by the sandbox.
        let first = try publish("first, its end held")
        let firstFinished = broker.register(first.eventID)
        defer { broker.unregister(first.eventID) }
        _ = try await store.events.enqueue([first])
        #expect(await env.sandbox.recorder.waitFor(count: 1, where: { $0.bearerToken == accessToken }))

        // Its row locked, its end will wait; then its call is answered, and a second job queued.
        let locker = try await PostgresConnection.connect(
            configuration: database.settings.connectionConfiguration(), id: 1, logger: env.logger)
        defer { Task { try? await locker.close() } }
        try await locker.run("BEGIN", logger: env.logger)
        try await locker.run("SELECT 1 FROM publish_jobs WHERE event_id = \(first.eventID) FOR UPDATE", logger: env.logger)
        let second = try publish("second, claimed with the first one's slot")
        let secondFinished = broker.register(second.eventID)
        defer { broker.unregister(second.eventID) }
        _ = try await store.events.enqueue([second])
        #expect(env.sandbox.faults.releaseHeld(token: accessToken) == 1)

        // The second job is claimed while the first one's end waits for the lock.
        var claimed = false
        let deadline = ContinuousClock.now + .seconds(60)
        while !claimed && ContinuousClock.now < deadline {
            claimed = try await job(second.eventID)?.owner == worker.owner
            if !claimed { await Task.yield() }
        }
        #expect(claimed, "the second job was not claimed while the first one's end waited")
        #expect(try await job(first.eventID)?.state == "running", "the first job's end should still wait for the lock")

        try await locker.run("COMMIT", logger: env.logger)
        #expect(await firstFinished.wait(upTo: .seconds(60)))
        #expect(await secondFinished.wait(upTo: .seconds(60)))
        #expect(try await job(first.eventID)?.state == "succeeded")
        #expect(try await job(second.eventID)?.state == "succeeded")
        work.cancel()
        try await work.value
    }
}
