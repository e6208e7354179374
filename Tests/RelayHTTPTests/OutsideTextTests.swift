import Foundation
import PostgresNIO
import RelayCore
import RelayStore
import Testing
import TestSupport

/// What providers and subscribers answer is written to PostgreSQL even when it holds U+0000 (a binary body's
/// excerpt, an error message), which `text` and `jsonb` refuse: it is written with U+FFFD in its place.
/// Before, the whole end of the try or record of the delivery was refused, and a delivered callback whose
/// record failed was delivered again at every lease.
@Suite struct OutsideTextTests {
    @Test func theEndOfATryKeepsWhatTheProviderAnswered() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let ids = try await GroupCommitTests.scheduledJobs(env, identity, count: 1, text: "nul")
        try await GroupCommitTests.lease(env, ids)
        let attempt = ProviderAttempt(
            step: "tweets.create", method: "POST", url: "https://api.x.com/2/tweets", requestSummary: ["text_length": 3], httpStatus: 400,
            outcome: .permanent, responseExcerpt: "PNG\u{0}\u{1}binary", error: "refused\u{0}", startedAt: Date(), durationMilliseconds: 3)
        let held = try await GroupCommitTests.reporting {
            try await env.store.jobs.finish([
                FinishedTry(
                    eventID: ids[0], owner: "test-owner", tryNumber: 1, transition: .failed(RelayError(status: 400, info: "X said: a\u{0}b")),
                    attempts: [attempt])
            ])
        }.map { try $0.get() }
        #expect(held == [true])
        let rows = try await env.store.query(
            """
            SELECT j.state, j.error_info, a.response_excerpt, a.error
            FROM publish_jobs j JOIN provider_attempts a USING (event_id) WHERE j.event_id = \(ids[0])
            """, logger: env.logger)
        var stored: [(String, String?, String?, String?)] = []
        for try await row in rows.decode((String, String?, String?, String?).self) { stored.append(row) }
        #expect(stored.count == 1)
        #expect(stored.first?.0 == "failed")
        #expect(stored.first?.1 == "X said: a\u{FFFD}b")
        #expect(stored.first?.2 == "PNG\u{FFFD}\u{1}binary")
        #expect(stored.first?.3 == "refused\u{FFFD}")

        // A result kept as JSON text: U+0000 replaced before it is written as an escape.
        let more = try await GroupCommitTests.scheduledJobs(env, identity, count: 1, text: "nul result")
        try await GroupCommitTests.lease(env, more)
        let succeeded = try await GroupCommitTests.reporting {
            try await env.store.jobs.finish([
                FinishedTry(
                    eventID: more[0], owner: "test-owner", tryNumber: 1, transition: .succeeded(["post_id": "1\u{0}2", "object": "post"]),
                    attempts: [attempt])
            ])
        }.map { try $0.get() }
        #expect(succeeded == [true])
        let results = try await env.store.query("SELECT result::text FROM publish_jobs WHERE event_id = \(more[0])", logger: env.logger)
        var result: String?
        for try await text in results.decode(String.self) { result = text }
        #expect(result == "{\"post_id\":\"1\u{FFFD}2\",\"object\":\"post\"}")
    }

    @Test func theRecordOfADeliveryKeepsWhatTheSubscriberAnswered() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let ids = try await GroupCommitTests.scheduledJobs(env, identity, count: 1, text: "nul callback")
        // A callback being delivered by `test-owner`, as its claim leaves it.
        let rows = try await env.store.write(
            """
            INSERT INTO callbacks (event_id, url, type, payload, state, attempt_count, lease_owner, lease_expires_at)
            VALUES (\(ids[0]), 'http://subscriber.example/hook', 'push.succeeded', '{}', 'delivering', 1, 'test-owner',
                    now() + interval '1 minute')
            RETURNING id
            """, logger: env.logger)
        let id = try #require(try rows.first?.decode(UUID.self))

        let delivery = CallbackDelivery(
            httpStatus: 200, error: nil, responseExcerpt: "ok\u{0}\u{1}binary", startedAt: Date(), durationMilliseconds: 2, next: .delivered,
            disablesSubscription: false)
        let recorded = try await env.store.callbacks.record([RecordedDelivery(callbackID: id, owner: "test-owner", attempt: 1, delivery: delivery)])
        #expect(recorded.count == 1)
        let stored = try await env.store.query(
            """
            SELECT c.state, a.response_excerpt FROM callbacks c JOIN callback_attempts a ON a.callback_id = c.id WHERE c.id = \(id)
            """, logger: env.logger)
        var found: [(String, String?)] = []
        for try await row in stored.decode((String, String?).self) { found.append(row) }
        #expect(found.count == 1)
        #expect(found.first?.0 == "delivered")
        #expect(found.first?.1 == "ok\u{FFFD}\u{1}binary")
    }

    /// A page an adapter looked up (its name as the provider gave it) is stored with U+FFFD for U+0000.
    @Test func anAccountLookedUpIsStored() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "facebook")
        let token = try #require(UUID(uuidString: identity.token))
        try await env.store.identities.storeAccount(token, PublishAccount(kind: "page", id: "4242", name: "Caf\u{0}e", accessToken: "page-token"))
        let rows = try await env.store.query(
            "SELECT name FROM identity_accounts WHERE identity_token = \(token) AND account_id = '4242'", logger: env.logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        #expect(names == ["Caf\u{FFFD}e"])
    }

    @Test func storableReplacesOnlyNUL() {
        let value: JSONValue = ["k\u{0}": ["a\u{0}b", 1, nil, "é\u{1}"]]
        #expect(value.storable() == ["k\u{FFFD}": ["a\u{FFFD}b", 1, nil, "é\u{1}"]])
        #expect("plain".storable == "plain")
    }
}
