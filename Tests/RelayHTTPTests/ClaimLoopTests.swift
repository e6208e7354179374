import Foundation
import PostgresNIO
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
}
