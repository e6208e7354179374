import Foundation
import PostgresNIO
import RelayCore
import RelayStore
import Testing
import TestSupport

/// Group commit (`GroupCommit`): concurrent publish requests, and the ends of concurrent tries, share one
/// statement and one commit; each is answered with its own outcome, and idempotency holds inside a batch.
@Suite struct GroupCommitTests {
    func publish(_ identity: TestIdentity, _ text: String, key: String? = nil) throws -> NewPublish {
        let route = try #require(MatchedOperation.match("twitter/post"))
        let body: JSONValue = ["request": ["push": ["post": ["message": .string(text)]]]]
        return NewPublish(
            request: try PushRequestParser.parse(body, route: route), identityToken: try #require(UUID(uuidString: identity.token)),
            source: "push_api", idempotencyKey: key, requestHash: Data(text.utf8), apiKeyID: nil, body: body)
    }

    @Test func concurrentRequestsShareCommits() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let batcher = PublishBatcher(store: env.store)
        let publishes = try (0..<64).map { try publish(identity, "batched \($0) \(UUID())") }
        let results = try await withThrowingTaskGroup(of: RecordedEvent.self) { group in
            for item in publishes { group.addTask { try await batcher.submit(item) } }
            var results: [RecordedEvent] = []
            for try await result in group { results.append(result) }
            return results
        }
        let created = results.compactMap { if case .created(let id) = $0 { id } else { nil } }
        #expect(Set(created) == Set(publishes.map(\.eventID)))
        // Rows written by one transaction share its xmin: 64 requests, fewer commits.
        let rows = try await env.store.query(
            "SELECT count(DISTINCT xmin::text), count(*) FROM events WHERE id = ANY(\(publishes.map(\.eventID)))", logger: env.logger)
        for try await (transactions, count) in rows.decode((Int, Int).self) {
            #expect(count == 64)
            #expect(transactions < 64)
        }
        for id in created.prefix(3) {
            #expect(try await env.finalEvent(id.uuidString.lowercased())["state"] == "succeeded")
        }
    }

    @Test func aRepeatedKeyInsideOneBatchCreatesOneEvent() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let key = "push:group-\(UUID())"
        let first = try publish(identity, "same", key: key)
        let second = try publish(identity, "same", key: key)
        let results = try await env.store.events.enqueue([first, second])
        let outcomes = try results.map { try $0.get() }
        guard case .created(let id) = outcomes[0], case .existing(let existing, let sameRequest) = outcomes[1] else {
            Issue.record("expected created then existing: \(outcomes)")
            return
        }
        #expect(existing == id)
        #expect(sameRequest)
    }

    /// The batch checks each request's identity: the refused ones are not written and do not hold back the others.
    @Test func anIdentityThatCannotPublishIsRefusedAloneInItsBatch() async throws {
        let env = try await TestEnvironment.shared.value
        let good = try await env.connectIdentity()
        let unknown = TestIdentity(token: UUID().uuidString.lowercased(), accessToken: "none")
        let gone = try await env.connectIdentity()
        let disconnected = try await env.webhook(
            "identity-disconnected", body: #"{"type":"identity.disconnected","data":{"identity_token":"\#(gone.token)"}}"#)
        #expect(disconnected.status == 202)
        let facebook = try await env.connectIdentity(provider: "facebook")

        let facebookRoute = try #require(MatchedOperation.match("facebook/post"))
        let facebookBody: JSONValue = ["request": ["push": ["post": ["message": "wrong provider"]]]]
        let onFacebookRoute = NewPublish(
            request: try PushRequestParser.parse(facebookBody, route: facebookRoute), identityToken: try #require(UUID(uuidString: good.token)),
            source: "push_api", idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: facebookBody)
        let batch = [
            try publish(good, "fine 1"), try publish(unknown, "unknown"), try publish(gone, "disconnected"),
            try publish(facebook, "x route for a facebook identity"), onFacebookRoute, try publish(good, "fine 2"),
        ]
        let results = try await env.store.events.enqueue(batch)
        #expect(results.count == 6)
        func refusal(_ index: Int) -> IdentityNotStanding? {
            if case .failure(let error) = results[index] { error as? IdentityNotStanding } else { nil }
        }
        for index in [0, 5] {
            guard case .success(.created(let id)) = results[index] else {
                Issue.record("\(index) should be created: \(results[index])")
                continue
            }
            #expect(id == batch[index].eventID)
        }
        #expect(try #require(refusal(1)).standing == nil)
        #expect(try #require(refusal(2)).standing == nil)
        #expect(try #require(refusal(3)).standing == IdentityStanding(provider: .facebook, state: "connected"))
        #expect(try #require(refusal(4)).standing == IdentityStanding(provider: .twitter, state: "connected"))
        let rows = try await env.store.query(
            "SELECT count(*)::int FROM events WHERE id = ANY(\(batch.map(\.eventID)))", logger: env.logger)
        for try await count in rows.decode(Int.self) { #expect(count == 2, "only the two requests of a standing identity are written") }
    }

    /// Runs `body`, recording PostgreSQL's own message if it throws (a PSQLError describes itself vaguely).
    static func reporting<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            Issue.record("\(String(reflecting: error))")
            throw error
        }
    }

    /// Queues `count` tweets scheduled a day ahead, so that no worker of the test relay takes them (the tests lease
    /// them by hand); their event ids.
    static func scheduledJobs(_ env: TestEnvironment, _ identity: TestIdentity, count: Int, text: String) async throws -> [UUID] {
        let later = RFC3339.format(Date().addingTimeInterval(86_400))
        let jobs = try (0..<count).map { number -> NewPublish in
            let route = try #require(MatchedOperation.match("twitter/post"))
            let body: JSONValue = ["request": ["push": ["post": ["message": .string("\(text) \(number)")]], "schedule": ["at": .string(later)]]]
            return NewPublish(
                request: try PushRequestParser.parse(body, route: route), identityToken: try #require(UUID(uuidString: identity.token)),
                source: "push_api", idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: body)
        }
        _ = try await env.store.events.enqueue(jobs).map { try $0.get() }
        return jobs.map(\.eventID)
    }

    /// Leases `ids` by hand, as a claim would (first try): to `test-owner`, or to `someone-else` for those in
    /// `elsewhere` (leases the tested writes must find lost).
    static func lease(_ env: TestEnvironment, _ ids: [UUID], elsewhere: [UUID] = []) async throws {
        try await env.store.write(
            """
            UPDATE publish_jobs SET state = 'running', lease_expires_at = now() + interval '1 minute', attempt_count = 1,
                lease_owner = CASE WHEN event_id = ANY(\(elsewhere)) THEN 'someone-else' ELSE 'test-owner' END
            WHERE event_id = ANY(\(ids))
            """, logger: env.logger)
    }

    /// The ends of several tries in one CALL: each is written only while its owner holds the lease.
    @Test func theEndsOfTriesShareACommitAndALostLeaseWritesNothing() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let ids = try await Self.scheduledJobs(env, identity, count: 2, text: "held")
        try await Self.lease(env, ids)
        let attempt = ProviderAttempt(
            step: "tweets.create", method: "POST", url: "https://api.x.com/2/tweets", requestSummary: ["text_length": 6], httpStatus: 201,
            outcome: .succeeded, responseExcerpt: "{}", error: nil, startedAt: Date(), durationMilliseconds: 3)
        let held = try await Self.reporting { try await env.store.jobs.finish([
            FinishedTry(
                eventID: ids[0], owner: "test-owner", tryNumber: 1, transition: .succeeded(["post_id": "1", "object": "post"]),
                attempts: [attempt]),
            FinishedTry(
                eventID: ids[1], owner: "another-owner", tryNumber: 1, transition: .failed(RelayError(status: 400, info: "refused")),
                attempts: [attempt]),
        ]) }.map { try $0.get() }
        #expect(held == [true, false])
        let rows = try await env.store.query(
            """
            SELECT j.state, j.result::text, (SELECT count(*)::int FROM provider_attempts a WHERE a.event_id = j.event_id)
            FROM publish_jobs j WHERE j.event_id = \(ids[0]) UNION ALL
            SELECT j.state, j.result::text, (SELECT count(*)::int FROM provider_attempts a WHERE a.event_id = j.event_id)
            FROM publish_jobs j WHERE j.event_id = \(ids[1])
            """, logger: env.logger)
        var states: [(String, String?, Int)] = []
        for try await row in rows.decode((String, String?, Int).self) { states.append(row) }
        #expect(states.count == 2)
        #expect(states.first?.0 == "succeeded")
        #expect(states.first?.1 == #"{"post_id":"1","object":"post"}"#)  // the keys keep their order
        #expect(states.first?.2 == 1)
        #expect(states.last?.0 == "running")
        #expect(states.last?.2 == 0)
    }

    /// Two tries of one batch rate-limited on the same identity and provider make one pause, until the later of
    /// their resets (one statement writes the whole batch: PostgreSQL refuses to update one row twice in it);
    /// the answer keeps the batch's order when the lost lease comes first.
    @Test func twoRateLimitsOfOneIdentityInOneBatchMakeOnePause() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let ids = try await Self.scheduledJobs(env, identity, count: 3, text: "paused")
        try await Self.lease(env, ids, elsewhere: [ids[0]])
        let limited = ProviderAttempt(
            step: "tweets.create", method: "POST", url: "https://api.x.com/2/tweets", requestSummary: ["text_length": 8], httpStatus: 429,
            outcome: .rateLimited, responseExcerpt: "{}", error: nil, startedAt: Date(), durationMilliseconds: 2)
        let sooner = Date().addingTimeInterval(600)
        let latest = Date().addingTimeInterval(1200)
        let rateLimited = RelayError(status: 429, info: "rate limited")
        let held = try await Self.reporting { try await env.store.jobs.finish([
            FinishedTry(
                eventID: ids[0], owner: "test-owner", tryNumber: 1, transition: .succeeded(["post_id": "0"]), attempts: [limited]),
            FinishedTry(
                eventID: ids[1], owner: "test-owner", tryNumber: 1,
                transition: .requeue(runAt: latest, lastError: rateLimited, pausesIdentity: true), attempts: [limited]),
            FinishedTry(
                eventID: ids[2], owner: "test-owner", tryNumber: 1,
                transition: .requeue(runAt: sooner, lastError: rateLimited, pausesIdentity: true), attempts: [limited]),
        ]) }.map { try $0.get() }
        #expect(held == [false, true, true])

        let pauses = try await env.store.query(
            """
            SELECT extract(epoch FROM paused_until)::float8 FROM provider_pauses
            WHERE identity_token = \(try #require(UUID(uuidString: identity.token))) AND provider = 'twitter'
            """, logger: env.logger)
        var until: [Double] = []
        for try await value in pauses.decode(Double.self) { until.append(value) }
        #expect(until.count == 1)
        #expect(abs((until.first ?? 0) - latest.timeIntervalSince1970) < 0.01, "the later reset wins")

        let rows = try await env.store.query(
            """
            SELECT j.event_id, j.state, j.lease_owner, (SELECT count(*)::int FROM provider_attempts a WHERE a.event_id = j.event_id)
            FROM publish_jobs j WHERE j.event_id = ANY(\(ids))
            """, logger: env.logger)
        var jobStates: [UUID: (String, String?, Int)] = [:]
        for try await (id, state, owner, attempts) in rows.decode((UUID, String, String?, Int).self) { jobStates[id] = (state, owner, attempts) }
        #expect(jobStates[ids[0]]?.0 == "running" && jobStates[ids[0]]?.1 == "someone-else" && jobStates[ids[0]]?.2 == 0)
        #expect(jobStates[ids[1]]?.0 == "queued" && jobStates[ids[1]]?.2 == 1)
        #expect(jobStates[ids[2]]?.0 == "queued" && jobStates[ids[2]]?.2 == 1)
    }

    /// The worker's marks and ends of tries in one CALL (`mark_and_finish`): the answer keeps the batch's
    /// order across both kinds, a mark or an end whose lease is lost writes nothing, and the marks are
    /// committed with the ends.
    @Test func marksAndEndsOfTriesShareOneCall() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let ids = try await Self.scheduledJobs(env, identity, count: 4, text: "mixed")
        try await Self.lease(env, ids, elsewhere: [ids[1], ids[3]])
        let attempt = ProviderAttempt(
            step: "tweets.create", method: "POST", url: "https://api.x.com/2/tweets", requestSummary: ["text_length": 7], httpStatus: 201,
            outcome: .succeeded, responseExcerpt: "{}", error: nil, startedAt: Date(), durationMilliseconds: 3)
        func ended(_ id: UUID) -> WorkerWrite {
            .finish(
                FinishedTry(eventID: id, owner: "test-owner", tryNumber: 1, transition: .succeeded(["post_id": "9"]), attempts: [attempt]))
        }
        let outcomes = try await Self.reporting {
            try await env.store.jobs.write([.mark(ids[0]), ended(ids[2]), .mark(ids[1]), ended(ids[3])], owner: "test-owner")
        }.map { try $0.get() }
        #expect(outcomes == [true, true, false, false])

        let rows = try await env.store.query(
            """
            SELECT j.event_id, j.state, j.publish_call_started_at IS NOT NULL,
                   (SELECT count(*)::int FROM provider_attempts a WHERE a.event_id = j.event_id)
            FROM publish_jobs j WHERE j.event_id = ANY(\(ids))
            """, logger: env.logger)
        var jobs: [UUID: (state: String, marked: Bool, attempts: Int)] = [:]
        for try await (id, state, marked, attempts) in rows.decode((UUID, String, Bool, Int).self) { jobs[id] = (state, marked, attempts) }
        #expect(jobs[ids[0]]?.state == "running" && jobs[ids[0]]?.marked == true, "marked, still running")
        #expect(jobs[ids[1]]?.marked == false, "not marked: its lease is someone else's")
        #expect(jobs[ids[2]]?.state == "succeeded" && jobs[ids[2]]?.attempts == 1)
        #expect(jobs[ids[3]]?.state == "running" && jobs[ids[3]]?.attempts == 0, "not ended: its lease is someone else's")
    }

    /// A batch PostgreSQL refuses is written again item by item: only the item it refuses fails.
    @Test func anItemPostgreSQLRefusesFailsAloneInItsBatch() async throws {
        let env = try await TestEnvironment.shared.value
        let store = env.store
        let divide: @Sendable ([Int]) async throws -> [Result<Int, any Error>] = { divisors in
            // One statement for the batch; a zero fails all of it (22012, division by zero).
            let rows = try await store.query("SELECT 100 / x FROM unnest(\(divisors)::int[]) WITH ORDINALITY AS u(x, n) ORDER BY n", logger: env.logger)
            var outcomes: [Result<Int, any Error>] = []
            for try await quotient in rows.decode(Int.self) { outcomes.append(.success(quotient)) }
            return outcomes
        }
        let outcomes = await GroupCommit<Int, Int>.write([4, 0, 5], with: divide)
        #expect(outcomes.count == 3)
        #expect(try outcomes[0].get() == 25)
        #expect(try outcomes[2].get() == 20)
        #expect(throws: PSQLError.self) { try outcomes[1].get() }
    }
}
