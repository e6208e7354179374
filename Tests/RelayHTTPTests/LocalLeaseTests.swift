import Foundation
import PostgresNIO
import RelayCore
import RelayEngine
import RelayProviders
import RelayStore
import Testing
import TestSupport

/// A request accepted by a process whose publish worker has room is leased to that worker by its batch
/// insert (migration 0010): its job starts without a claim, and is otherwise an ordinary leased job.
@Suite struct LocalLeaseTests {
    /// A publish worker with `slots` slots and no adapters, over `store`; not started unless a test runs it.
    static func worker(slots: Int, store: Store, env: TestEnvironment) -> PublishWorker {
        var configuration = Configuration()
        configuration.workers = slots
        return PublishWorker(
            store: store, adapters: [:], http: env.http, media: MediaFetcher(http: env.http, policy: AddressPolicy(allowPrivate: true)),
            broker: OutcomeBroker(), configuration: configuration, logger: env.logger)
    }

    func publish(_ identity: TestIdentity, _ text: String, at scheduled: Date? = nil) throws -> NewPublish {
        let route = try #require(MatchedOperation.match("twitter/post"))
        var request: [(String, JSONValue)] = [("push", ["post": ["message": .string(text)]])]
        if let scheduled { request.append(("schedule", ["at": .string(RFC3339.format(scheduled))])) }
        let body: JSONValue = ["request": .object(request)]
        return NewPublish(
            request: try PushRequestParser.parse(body, route: route), identityToken: try #require(UUID(uuidString: identity.token)),
            source: "push_api", idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: body)
    }

    /// The intake of a process with a publish worker leases the request's job to that worker in its batch
    /// insert: the job is written `running` under the worker's lease (in the transaction that wrote it: its
    /// `started_at` is that transaction's time), and handed to the worker. The worker here is not started, so
    /// nothing else (no claim of the shared test queue) can take its slots or the job.
    @Test func theIntakeLeasesARequestToTheWorkerOfItsProcess() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let worker = Self.worker(slots: 2, store: env.store, env: env)
        let intake = PublishIntake(
            store: env.store, broker: OutcomeBroker(), syncTimeout: .seconds(1), callbackPolicy: AddressPolicy(allowPrivate: true),
            localWorker: worker, logger: env.logger)
        let route = try #require(MatchedOperation.match("twitter/post"))
        var accepted: [UUID] = []
        for number in 0..<3 {
            let body: JSONValue = ["request": ["push": ["post": ["message": .string("handed over \(number)")]]]]
            let reply = try await intake.accept(
                route: route, body: body, identityToken: identity.token, apiKeyID: nil, idempotencyKey: nil, source: "push_api", mode: .queue)
            accepted.append(reply.status.eventID)
        }
        let rows = try await env.store.query(
            """
            SELECT event_id, state, lease_owner, started_at = created_at, attempt_count
            FROM publish_jobs WHERE event_id = ANY(\(accepted))
            """, logger: env.logger)
        var jobs: [UUID: (state: String, owner: String?, leasedByInsert: Bool?, attempts: Int)] = [:]
        for try await (id, state, owner, leasedByInsert, attempts) in rows.decode((UUID, String, String?, Bool?, Int).self) {
            jobs[id] = (state, owner, leasedByInsert, attempts)
        }
        // Two slots: the first two requests are leased to the worker by their insert, the third is queued for
        // any worker (the test relay's may have claimed it since).
        for id in accepted.prefix(2) {
            #expect(jobs[id]?.state == "running")
            #expect(jobs[id]?.owner == worker.owner)
            #expect(jobs[id]?.leasedByInsert == true)
            #expect(jobs[id]?.attempts == 1)
        }
        #expect(jobs[accepted[2]]?.owner != worker.owner)
        #expect(worker.reserve(upTo: 1) == nil, "both slots are taken by the adopted jobs")

        // Leased jobs end like claimed ones.
        let held = try await env.store.jobs.finish(
            accepted.prefix(2).map {
                FinishedTry(eventID: $0, owner: worker.owner, tryNumber: 1, transition: .succeeded(["post_id": "1"]), attempts: [])
            }
        ).map { try $0.get() }
        #expect(held == [true, true])
    }

    /// A job leased under the worker's owner that the worker does not run (its claim's or batch insert's
    /// answer was lost after the commit; here, leased by an insert and never handed over) must keep no lease
    /// alive through the worker's heartbeat: renewed by owner alone, it stayed `running` for as long as the
    /// process stayed busy, and the rescuer never took it back.
    @Test func theHeartbeatRenewsOnlyTheJobsTheWorkerRuns() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let worker = Self.worker(slots: 2, store: env.store, env: env)
        let orphan = try publish(identity, "leased, never handed over")
        let (_, leased) = try await env.store.events.enqueue([orphan], leasingTo: LocalLease(owner: worker.owner, seconds: 60, limit: 1))
        #expect(leased.map(\.eventID) == [orphan.eventID])

        #expect(try await worker.renewLeases() == 0)
        let rows = try await env.store.query(
            "SELECT state, lease_owner, lease_expires_at < now() + interval '61 seconds' FROM publish_jobs WHERE event_id = \(orphan.eventID)",
            logger: env.logger)
        for try await (state, owner, notRenewed) in rows.decode((String, String?, Bool).self) {
            #expect(state == "running")
            #expect(owner == worker.owner)
            #expect(notRenewed, "the heartbeat renewed the lease of a job its worker does not run")
        }

        _ = try await env.store.jobs.finish([
            FinishedTry(eventID: orphan.eventID, owner: worker.owner, tryNumber: 1, transition: .succeeded(["post_id": "1"]), attempts: [])
        ])
    }

    /// A batch insert whose answer is lost after its commit (here PostgreSQL commits, then the CALL fails:
    /// `enqueue_publishes` is wrapped, in a database of this test's own, by a procedure that raises after it)
    /// leaves jobs leased to the worker that the worker never received. They are queued again as if never
    /// leased, for any worker, instead of waiting for their lease (300 s by default) to run out; the slots
    /// reserved for them are free again.
    @Test func jobsLeasedByABatchWhoseAnswerWasLostAreQueuedAgain() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await PrivateDatabase.create(logger: env.logger)
        defer { database.close() }
        let (client, store) = (database.client, database.store)
        let identityToken = try await database.connectTwitterIdentity(userID: "lost-1", accessToken: "lost-token")
        _ = try await client.query(
            """
            ALTER PROCEDURE enqueue_publishes(jsonb, text, text, text, double precision, integer) RENAME TO enqueue_publishes_committed
            """)
        _ = try await client.query(
            """
            CREATE PROCEDURE enqueue_publishes(
                p_batch jsonb, p_channel text, INOUT outcomes text DEFAULT NULL,
                p_lease_owner text DEFAULT NULL, p_lease_seconds double precision DEFAULT 0, p_lease_limit integer DEFAULT 0)
            LANGUAGE plpgsql AS $$
            BEGIN
                CALL enqueue_publishes_committed(p_batch, p_channel, outcomes, p_lease_owner, p_lease_seconds, p_lease_limit);
                RAISE EXCEPTION 'the answer of a committed batch, lost';
            END
            $$
            """)

        let worker = Self.worker(slots: 2, store: store, env: env)
        let intake = PublishIntake(
            store: store, broker: OutcomeBroker(), syncTimeout: .seconds(1), callbackPolicy: AddressPolicy(allowPrivate: true),
            localWorker: worker, logger: env.logger)
        let route = try #require(MatchedOperation.match("twitter/post"))
        let body: JSONValue = ["request": ["push": ["post": ["message": "committed, answer lost"]]]]
        await #expect(throws: (any Error).self) {
            try await intake.accept(
                route: route, body: body, identityToken: identityToken.uuidString, apiKeyID: nil, idempotencyKey: nil,
                source: "push_api", mode: .queue)
        }

        // The batch committed (its job was leased to the worker), and is then given back.
        var job: (state: String, owner: String?, attempts: Int, started: Bool)?
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            for try await row in try await client.query(
                "SELECT state, lease_owner, attempt_count, started_at IS NOT NULL FROM publish_jobs"
            ).decode((String, String?, Int, Bool).self) {
                job = row
            }
            if job?.state == "queued" { break }
            await Task.yield()
        }
        #expect(job?.state == "queued")
        #expect(job?.owner == nil)
        #expect(job?.attempts == 0, "a try that never started is not counted")
        #expect(job?.started == false)
        #expect(worker.reserve(upTo: 5)?.limit == 2, "the slot reserved for the lost batch is free again")

        // Any worker claims it, as its first try.
        let claimed = try await store.jobs.claim(owner: "another-worker", limit: 5, lease: .seconds(60))
        #expect(claimed.map(\.tryNumber) == [1])
    }

    /// Giving back leases touches only the jobs named that a batch insert leased to this owner and that
    /// never started: not another owner's, nor one whose publishing call was marked.
    @Test func givingBackLeavesOtherJobsAlone() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let owner = "test-owner-\(UUID().uuidString.prefix(8))"
        let other = "test-other-\(UUID().uuidString.prefix(8))"
        let mine = try publish(identity, "mine, never handed over")
        let marked = try publish(identity, "mine, publishing call marked")
        let theirs = try publish(identity, "another owner's")
        _ = try await env.store.events.enqueue([mine, marked], leasingTo: LocalLease(owner: owner, seconds: 60, limit: 2))
        _ = try await env.store.events.enqueue([theirs], leasingTo: LocalLease(owner: other, seconds: 60, limit: 1))
        #expect(try await env.store.jobs.markPublishing([marked.eventID], owner: owner).map { try $0.get() } == [true])

        let all = [mine, marked, theirs].map(\.eventID)
        #expect(try await env.store.jobs.requeueUnreceived(all, owner: owner) == 1)
        var states: [UUID: (String, String?)] = [:]
        for try await (id, state, leaseOwner) in try await env.store.query(
            "SELECT event_id, state, lease_owner FROM publish_jobs WHERE event_id = ANY(\(all))", logger: env.logger
        ).decode((UUID, String, String?).self) {
            states[id] = (state, leaseOwner)
        }
        // The one given back is queued for any worker (the test relay's may have claimed it since).
        #expect(states[mine.eventID]?.1 != owner)
        #expect(states[marked.eventID]?.0 == "running")
        #expect(states[marked.eventID]?.1 == owner)
        #expect(states[theirs.eventID]?.0 == "running")
        #expect(states[theirs.eventID]?.1 == other)

        _ = try await env.store.jobs.finish([
            FinishedTry(eventID: marked.eventID, owner: owner, tryNumber: 1, transition: .succeeded(["post_id": "1"]), attempts: []),
            FinishedTry(eventID: theirs.eventID, owner: other, tryNumber: 1, transition: .succeeded(["post_id": "2"]), attempts: []),
        ])
    }

    /// The heartbeat gives back the jobs leased to its worker that the worker never received (a claim's
    /// answer lost after its commit; here, leased by an insert and never handed over) once they were
    /// unknown to it at two heartbeats in a row: queued again, one try fewer. Not a job handed over in
    /// between (it was on its way to the worker), nor one whose publishing call was marked; a job leased
    /// after the first heartbeat waits for the next.
    @Test func theHeartbeatGivesBackStraysItNeverReceived() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let worker = Self.worker(slots: 4, store: env.store, env: env)
        let (stray, marked, handedOver, late) = (
            try publish(identity, "stray"), try publish(identity, "stray, call marked"),
            try publish(identity, "handed over after the first heartbeat"), try publish(identity, "leased after the first heartbeat")
        )
        let (_, leased) = try await env.store.events.enqueue(
            [stray, marked, handedOver], leasingTo: LocalLease(owner: worker.owner, seconds: 300, limit: 3))
        #expect(try await env.store.jobs.markPublishing([marked.eventID], owner: worker.owner).map { try $0.get() } == [true])

        #expect(try await worker.releaseStrays() == 0, "unknown once is not yet a stray")
        worker.adopt(leased.filter { $0.eventID == handedOver.eventID })
        _ = try await env.store.events.enqueue([late], leasingTo: LocalLease(owner: worker.owner, seconds: 300, limit: 1))
        #expect(try await worker.releaseStrays() == 1)

        let all = [stray, marked, handedOver, late].map(\.eventID)
        func jobs() async throws -> [UUID: (state: String, owner: String?, attempts: Int)] {
            var jobs: [UUID: (state: String, owner: String?, attempts: Int)] = [:]
            for try await (id, state, leaseOwner, attempts) in try await env.store.query(
                "SELECT event_id, state, lease_owner, attempt_count FROM publish_jobs WHERE event_id = ANY(\(all))", logger: env.logger
            ).decode((UUID, String, String?, Int).self) {
                jobs[id] = (state, leaseOwner, attempts)
            }
            return jobs
        }
        var now = try await jobs()
        // Queued again for any worker (the test relay's may have claimed it since: then its first try).
        #expect(now[stray.eventID]?.owner != worker.owner)
        #expect(now[stray.eventID].map { $0.state == "queued" ? $0.attempts == 0 : $0.attempts == 1 } == true)
        #expect(now[marked.eventID]?.state == "running")
        #expect(now[marked.eventID]?.owner == worker.owner)
        #expect(now[handedOver.eventID]?.owner == worker.owner, "a job handed over to the worker is not a stray")
        #expect(now[late.eventID]?.owner == worker.owner, "a job unknown at one heartbeat only is not a stray yet")

        #expect(try await worker.releaseStrays() == 1)
        now = try await jobs()
        #expect(now[late.eventID]?.owner != worker.owner)
        #expect(now[handedOver.eventID]?.owner == worker.owner)

        _ = try await env.store.jobs.finish(
            [marked, handedOver].map {
                FinishedTry(eventID: $0.eventID, owner: worker.owner, tryNumber: 1, transition: .succeeded(["post_id": "1"]), attempts: [])
            })
    }

    /// The claim loop takes its slots before it asks PostgreSQL for jobs: the intake's leases share those
    /// slots, and a lease asked for while a claim runs gets none of the slots that claim may fill. (Both
    /// once counted the same free slots, and a worker of 16 ran 17 calls at once.) The claim is held here
    /// by a lock on `publish_jobs`, in a database of its own.
    @Test func aClaimInProgressHoldsItsSlots() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await PrivateDatabase.create(logger: env.logger)
        defer { database.close() }
        let (settings, store) = (database.settings, database.store)

        let locker = try await PostgresConnection.connect(configuration: settings.connectionConfiguration(), id: 1, logger: env.logger)
        try await locker.run("BEGIN", logger: env.logger)
        try await locker.run("LOCK TABLE publish_jobs IN ACCESS EXCLUSIVE MODE", logger: env.logger)

        let worker = Self.worker(slots: 3, store: store, env: env)
        let work = Task { try await worker.run() }

        // The worker's first claim waits for the lock.
        let watcher = try await PostgresConnection.connect(configuration: settings.connectionConfiguration(), id: 2, logger: env.logger)
        var waiting = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while waiting == 0 && ContinuousClock.now < deadline {
            let rows = try await watcher.query(
                "SELECT count(*)::int FROM pg_locks WHERE NOT granted AND relation = 'publish_jobs'::regclass", logger: env.logger)
            for try await count in rows.decode(Int.self) { waiting = count }
            if waiting == 0 { await Task.yield() }
        }
        #expect(waiting >= 1, "the worker's claim should be waiting for the lock")
        #expect(worker.reserve(upTo: 1) == nil, "the running claim holds every slot")

        try await locker.run("ROLLBACK", logger: env.logger)
        work.cancel()
        try await work.value
        // The claim found nothing and gave its slots back.
        #expect(worker.reserve(upTo: 5)?.limit == 3)
        try await locker.close()
        try await watcher.close()
    }

    /// The batch insert leases only jobs that are due, up to the limit, in the batch's order, and hands
    /// them back ready to run; a leased job ends like a claimed one.
    @Test func theInsertLeasesDueJobsUpToItsLimit() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let later = Date().addingTimeInterval(86_400)
        let batch = [
            try publish(identity, "scheduled", at: later), try publish(identity, "due first"), try publish(identity, "due second"),
        ]
        let owner = "test-owner-\(UUID().uuidString.prefix(8))"
        let (results, leased) = try await env.store.events.enqueue(batch, leasingTo: LocalLease(owner: owner, seconds: 60, limit: 1))
        #expect(try results.map { try $0.get().eventID } == batch.map(\.eventID))
        #expect(leased.map(\.eventID) == [batch[1].eventID])
        let job = try #require(leased.first)
        #expect(job.tryNumber == 1)
        #expect(job.route.path == "twitter/post")
        #expect(job.credentials?.accessToken == identity.accessToken)
        #expect(job.identityState == "connected")

        let rows = try await env.store.query(
            "SELECT event_id, state, lease_owner FROM publish_jobs WHERE event_id = ANY(\(batch.map(\.eventID)))", logger: env.logger)
        var states: [UUID: (String, String?)] = [:]
        for try await (id, state, leaseOwner) in rows.decode((UUID, String, String?).self) { states[id] = (state, leaseOwner) }
        #expect(states[batch[0].eventID]?.0 == "scheduled")
        #expect(states[batch[1].eventID]?.0 == "running")
        #expect(states[batch[1].eventID]?.1 == owner)
        // The second due job was queued for any worker (the test relay's may have taken it already).
        #expect(states[batch[2].eventID]?.1 != owner)

        let held = try await env.store.jobs.finish([
            FinishedTry(eventID: job.eventID, owner: owner, tryNumber: 1, transition: .succeeded(["post_id": "1"]), attempts: [])
        ]).map { try $0.get() }
        #expect(held == [true])
    }
}

/// An identity whose stored tokens were sealed with a key this relay does not hold fails its own jobs, with
/// a clear error, and no other job claimed or leased with them.
@Suite struct UnopenableTokensTests {
    @Test func aJobWhoseTokensCannotBeOpenedFailsAlone() async throws {
        let env = try await TestEnvironment.shared.value
        let sealedAway = try await env.connectIdentity()
        let fine = try await env.connectIdentity()
        try await env.store.write(
            "UPDATE identities SET credentials_key_id = 'rotated-away' WHERE identity_token = \(try #require(UUID(uuidString: sealedAway.token)))",
            logger: env.logger)

        // Through the API (leased by its insert or claimed, as the worker's room decides).
        let refused = try await env.push(sealedAway, "twitter/post", #"{"request":{"push":{"post":{"message":"sealed away"}}}}"#)
        #expect(refused.code == 500)
        #expect(refused.info?.contains("stored tokens cannot be opened") == true)
        #expect(refused.info?.contains("rotated-away") == true)

        // Queued together and claimed by the worker: the other job publishes.
        let route = try #require(MatchedOperation.match("twitter/post"))
        let batch = try [sealedAway, fine].map { identity -> NewPublish in
            let body: JSONValue = ["request": ["push": ["post": ["message": .string("claimed with \(identity.token)")]]]]
            return NewPublish(
                request: try PushRequestParser.parse(body, route: route), identityToken: try #require(UUID(uuidString: identity.token)),
                source: "push_api", idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: body)
        }
        _ = try await env.store.events.enqueue(batch).map { try $0.get() }
        let failed = try await env.finalEvent(batch[0].eventID.uuidString.lowercased())
        #expect(failed["state"] == "failed")
        #expect(failed["error"]?["code"] == 500)
        let published = try await env.finalEvent(batch[1].eventID.uuidString.lowercased())
        #expect(published["state"] == "succeeded")
        #expect(env.sandbox.recorder.requests(provider: "x", token: sealedAway.accessToken).isEmpty)
    }
}
