import Foundation
import PostgresNIO
import RelayCore

/// A publish job leased to a worker, with what its adapter needs (credentials decrypted).
public struct ClaimedJob: Sendable {
    public let eventID: UUID
    public let route: MatchedOperation
    public let content: PublishContent
    public let callbackURL: String?
    /// 1 for the first try, 2 for the first retry…
    public let tryNumber: Int
    /// Intermediate provider ids saved by an earlier try.
    public let progress: JSONValue
    public let identityToken: UUID
    public let identityState: String
    /// Nil when the identity was disconnected after the request was accepted.
    public let credentials: Credentials?
    /// The same tokens as stored (sealed) when the job was claimed. Writing a refreshed token or marking
    /// the identity `needs_reconnect` applies only while these are still the stored ones: a user who
    /// reconnected meanwhile keeps the new connection's tokens and state.
    public let sealedCredentials: Data?
    /// When the access token expires, if the provider said.
    public let tokenExpiresAt: Date?
    /// The user's id at the provider (a LinkedIn member id, say).
    public let providerUserID: String
    /// Pages, organizations, channels and boards, with their own tokens decrypted.
    public let accounts: [PublishAccount]
    /// Why the identity's stored tokens could not be opened (sealed with a key other than
    /// `PUSHRELAY_ENCRYPTION_KEY`), if they could not: that job fails alone, the others claimed with it run.
    public let unopenedTokens: String?
}

/// What becomes of a job when a try ends.
public enum JobTransition: Sendable {
    case succeeded(JSONValue)
    case failed(RelayError)
    case indeterminate(RelayError)
    /// Back to the queue, not before `runAt`; the error is kept as the last one seen. With `pausesIdentity`
    /// (a rate limit) the identity's other jobs for the same provider wait until `runAt` too.
    case requeue(runAt: Date, lastError: RelayError, pausesIdentity: Bool)

    var state: PublishState {
        switch self {
        case .succeeded: .succeeded
        case .failed: .failed
        case .indeterminate: .indeterminate
        case .requeue: .queued
        }
    }
}

/// One write of the publish worker that waits for a commit: the mark before a publishing call, or the end of a
/// try. Both kinds share the worker's group commit (`JobQueue.write(_:owner:)`), so that a busy worker writes
/// them in one CALL.
public enum WorkerWrite: Sendable {
    case mark(UUID)
    case finish(FinishedTry)
}

/// The end of one try of a job, as `JobQueue.finish(_:)` writes it.
public struct FinishedTry: Sendable {
    public let eventID: UUID
    /// The lease holder: the try is written only if it still holds the job.
    public let owner: String
    public let tryNumber: Int
    public let transition: JobTransition
    /// The provider calls the try made.
    public let attempts: [ProviderAttempt]

    public init(eventID: UUID, owner: String, tryNumber: Int, transition: JobTransition, attempts: [ProviderAttempt]) {
        self.eventID = eventID
        self.owner = owner
        self.tryNumber = tryNumber
        self.transition = transition
        self.attempts = attempts
    }

    /// One element of `finish_tries`'s batch (migration 0008).
    var json: JSONValue {
        var result: JSONValue = .null
        var error: RelayError?
        var runAt: Date?
        var pause = false
        switch transition {
        // Made storable before it is serialized: written as text, a U+0000 is an escape that storable() no longer sees.
        case .succeeded(let data): result = .string(data.storable().serialized())
        case .failed(let relayError), .indeterminate(let relayError): error = relayError
        case .requeue(let at, let lastError, let pausesIdentity):
            runAt = at
            error = lastError
            pause = pausesIdentity
        }
        let entry: JSONValue = [
            "event_id": .string(eventID.lowercasedString),
            "owner": .string(owner),
            "try_number": .integer(Int64(tryNumber)),
            "state": .string(transition.state.rawValue),
            "is_final": .bool(transition.state.isFinal),
            "result": result,
            "error_code": error.map { .integer(Int64($0.status)) } ?? .null,
            "error_info": error.map { .string($0.info) } ?? .null,
            "run_at": runAt.map { .string(RFC3339.format($0)) } ?? .null,
            "pause": .bool(pause),
            "attempts": JobQueue.attemptsValue(attempts),
        ]
        return entry.storable()
    }
}

/// The publish queue: claim with `FOR UPDATE SKIP LOCKED` under a lease, finish, save progress.
///
/// Each operation is one SQL statement or procedure call; the ends of tries are written in batches.
public struct JobQueue: Sendable {
    let store: Store

    /// The claim of `claim(owner:limit:lease:)` (prepared: `ClaimJobs`). Its commit is neither waited for
    /// on the disk (`synchronous_commit` off for it) nor confirmed (`Store.writeUnconfirmed`): the mark
    /// before the publishing call is both, and once the mark is on disk so is every earlier commit, this
    /// claim included. A claim lost in a crash only leaves its jobs queued.
    ///
    /// Its plan is made once, without the limit's value (`plan_cache_mode`), so every lookup is written
    /// to be one by key whatever the planner guesses: `= ANY (ARRAY(…))` and the `LIMIT 1` laterals keep
    /// it from hashing whole tables (it read all of `events` at every claim when written as a join).
    static func claimQuery(owner: String, limit: Int, leaseSeconds: Double) -> PostgresQuery {
        """
            WITH c AS (
                SELECT event_id FROM publish_jobs
                WHERE state IN ('queued', 'scheduled') AND run_at <= now()
                  AND NOT EXISTS (
                      SELECT 1 FROM provider_pauses p
                      WHERE p.identity_token = publish_jobs.identity_token AND p.provider = split_part(publish_jobs.operation, '/', 1)
                        AND p.paused_until > now())
                ORDER BY run_at LIMIT \(limit) FOR UPDATE SKIP LOCKED),
            u AS (
                UPDATE publish_jobs j SET state = 'running', lease_owner = \(owner),
                    lease_expires_at = now() + make_interval(secs => \(leaseSeconds)),
                    attempt_count = j.attempt_count + 1, started_at = coalesce(j.started_at, now()), updated_at = now(),
                    publish_call_started_at = NULL
                FROM (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit
                WHERE j.event_id = ANY (ARRAY(SELECT event_id FROM c))
                RETURNING j.event_id, j.operation, j.request::text, j.callback_url, j.attempt_count, j.progress::text, j.identity_token)
            SELECT u.event_id, e.path, u.operation, u.request, u.callback_url, u.attempt_count, u.progress,
                   u.identity_token, i.state, i.credentials, i.credentials_key_id, i.token_expires_at, i.provider_user_id,
                   (SELECT coalesce(json_agg(json_build_object(
                             'kind', a.kind, 'id', a.account_id, 'name', a.name,
                             'token', encode(a.access_token, 'base64'), 'key_id', a.access_token_key_id)), '[]')::text
                    FROM identity_accounts a WHERE a.identity_token = u.identity_token) AS accounts
            FROM u
            CROSS JOIN LATERAL (SELECT path FROM events WHERE id = u.event_id LIMIT 1) AS e
            CROSS JOIN LATERAL (
                SELECT state, credentials, credentials_key_id, token_expires_at, provider_user_id
                FROM identities WHERE identity_token = u.identity_token LIMIT 1) AS i
        """
    }

    enum ClaimJobs: PreparedStatementKey {
        static let sql = claimQuery(owner: "", limit: 0, leaseSeconds: 0).sql
    }

    /// Leases up to `limit` jobs whose time has come to `owner` for `lease`.
    public func claim(owner: String, limit: Int, lease: Duration) async throws -> [ClaimedJob] {
        let rows = try await store.writeUnconfirmed(
            Self.claimQuery(owner: owner, limit: limit, leaseSeconds: Double(lease.components.seconds)), preparedAs: ClaimJobs.self,
            logger: store.logger)
        var jobs: [ClaimedJob] = []
        for row in rows {
            let r = row.makeRandomAccess()
            let eventID = try r["event_id"].decode(UUID.self)
            let path = try r["path"].decode(String.self)
            guard let route = MatchedOperation.match(path) else {
                throw DatabaseError("job \(eventID) has an unknown path \(path)")
            }
            let accountItems: [JSONValue]
            if case .array(let items)? = JSONValue.parse(text: try r["accounts"].decode(String.self)) { accountItems = items } else { accountItems = [] }
            let sealed = try r["credentials"].decode(Data?.self)
            let tokens = openTokens(sealed: sealed, keyID: try r["credentials_key_id"].decode(String?.self), accounts: accountItems)
            jobs.append(
                ClaimedJob(
                    eventID: eventID,
                    route: route,
                    content: try PublishContent.decode(try r["request"].decode(String.self), for: route.operation),
                    callbackURL: try r["callback_url"].decode(String?.self),
                    tryNumber: try r["attempt_count"].decode(Int.self),
                    progress: JSONValue.parse(text: try r["progress"].decode(String.self)) ?? [:],
                    identityToken: try r["identity_token"].decode(UUID.self),
                    identityState: try r["state"].decode(String.self),
                    credentials: tokens.credentials,
                    sealedCredentials: sealed,
                    tokenExpiresAt: try r["token_expires_at"].decode(Date?.self),
                    providerUserID: try r["provider_user_id"].decode(String.self),
                    accounts: tokens.accounts,
                    unopenedTokens: tokens.problem))
        }
        return jobs
    }

    /// A job the batch insert leased to this process (`EventRepository.enqueue(_:leasingTo:)`), built from
    /// the request in memory and what the insert returned of its identity, as `claim` would have built it.
    func leasedJob(_ publish: NewPublish, identity: JSONValue) throws -> ClaimedJob {
        guard case .array(let accounts)? = identity["accounts"] else { throw DatabaseError("a leased job came without its accounts") }
        let sealed = identity["credentials"]?.stringValue.flatMap { Data(base64Encoded: $0, options: .ignoreUnknownCharacters) }
        let tokens = openTokens(sealed: sealed, keyID: identity["key_id"]?.stringValue, accounts: accounts)
        return ClaimedJob(
            eventID: publish.eventID, route: publish.request.route, content: publish.request.content,
            callbackURL: publish.request.callbackURL, tryNumber: 1, progress: [:], identityToken: publish.identityToken,
            identityState: "connected", credentials: tokens.credentials, sealedCredentials: sealed,
            tokenExpiresAt: identity["token_expires_at"]?.stringValue.flatMap(RFC3339.parse),
            providerUserID: identity["provider_user_id"]?.stringValue ?? "", accounts: tokens.accounts, unopenedTokens: tokens.problem)
    }

    /// An identity's tokens and its accounts', decrypted; or why they could not be (a key no longer
    /// configured), so that one identity's sealed tokens cannot fail a whole claim.
    func openTokens(sealed: Data?, keyID: String?, accounts: [JSONValue]) -> (credentials: Credentials?, accounts: [PublishAccount], problem: String?) {
        do {
            var credentials: Credentials?
            if let sealed, let keyID {
                credentials = try JSONDecoder().decode(Credentials.self, from: store.cipher.open(sealed, keyID: keyID))
            }
            return (credentials, try self.accounts(accounts), nil)
        } catch {
            return (nil, [], "\(error)")
        }
    }

    /// Decodes the accounts aggregated by `claim` (or the batch insert), decrypting their tokens.
    func accounts(_ items: [JSONValue]) throws -> [PublishAccount] {
        try items.map { item in
            var token: String?
            if let sealed = item["token"]?.stringValue.flatMap({ Data(base64Encoded: $0, options: .ignoreUnknownCharacters) }),
                let keyID = item["key_id"]?.stringValue
            {
                token = try store.cipher.openString(sealed, keyID: keyID)
            }
            return PublishAccount(
                kind: item["kind"]?.stringValue ?? "", id: item["id"]?.stringValue ?? "", name: item["name"]?.stringValue ?? "",
                accessToken: token)
        }
    }

    /// Ends tries (procedure `finish_tries`: one CALL and one commit for the whole batch, which the publish
    /// worker's `GroupCommit` gathers): for each, records its provider attempts and moves the job on, if its
    /// owner still holds the lease. One outcome per try, in order: false when the lease was lost (another
    /// worker or the rescuer took the job) and nothing of that try was written.
    public func finish(_ tries: [FinishedTry]) async throws -> [Result<Bool, any Error>] {
        let batch = JSONValue.array(tries.map(\.json)).serialized()
        let rows = try await store.call(
            "CALL finish_tries(\(batch)::jsonb, \(Store.notificationChannel), NULL)", logger: store.logger)
        guard let text = try rows.decode(String.self).first, case .array(let held)? = JSONValue.parse(text: text),
            held.count == tries.count
        else { throw DatabaseError("finish_tries did not answer one outcome per try") }
        return held.map { .success($0 == .bool(true)) }
    }

    /// The publish worker's group commit: marks (as `markPublishing(_:owner:)`, under `owner`) and ends of
    /// tries (as `finish(_:)`) that wait together are written in one CALL and one commit (procedure
    /// `mark_and_finish`, migration 0012); a batch of one kind goes to that kind's procedure. One outcome
    /// per write, in order.
    public func write(_ writes: [WorkerWrite], owner: String) async throws -> [Result<Bool, any Error>] {
        var marks: [UUID] = []
        var tries: [FinishedTry] = []
        for write in writes {
            switch write {
            case .mark(let event): marks.append(event)
            case .finish(let finished): tries.append(finished)
            }
        }
        if tries.isEmpty { return try await markPublishing(marks, owner: owner) }
        if marks.isEmpty { return try await finish(tries) }
        let batch = JSONValue.array(tries.map(\.json)).serialized()
        let rows = try await store.call(
            "CALL mark_and_finish(\(marks), \(owner), \(batch)::jsonb, \(Store.notificationChannel), NULL, NULL)", logger: store.logger)
        guard let answer = try rows.decode(([UUID], String).self).first,
            case .array(let held)? = JSONValue.parse(text: answer.1), held.count == tries.count
        else { throw DatabaseError("mark_and_finish did not answer one outcome per try") }
        let marked = Set(answer.0)
        var ends = held.makeIterator()
        return writes.map { write in
            switch write {
            case .mark(let event): .success(marked.contains(event))
            case .finish: .success(ends.next() == .bool(true))
            }
        }
    }

    /// Records, before they are sent, that these tries are making the calls that publish (procedure
    /// `mark_publishing_batch`: one CALL and one commit, flushed, for the batch the worker's `GroupCommit`
    /// gathers). One outcome per job, in order: false when `owner` lost the lease, and then the call must
    /// not be made.
    public func markPublishing(_ eventIDs: [UUID], owner: String) async throws -> [Result<Bool, any Error>] {
        let rows = try await store.call("CALL mark_publishing_batch(\(eventIDs), \(owner), NULL)", logger: store.logger)
        let marked = Set(try rows.decode([UUID].self).first ?? [])
        return eventIDs.map { .success(marked.contains($0)) }
    }

    /// Extends the leases `owner` holds on `events`, the jobs it is running (the worker's heartbeat): a long
    /// upload keeps its job while the worker lives; a dead worker's leases run out and the rescuer takes
    /// them back. Only the jobs named are renewed: a job leased to `owner` by a claim or a batch insert whose
    /// answer never came back (a connection lost after the commit) is not running anywhere, and its lease
    /// must run out for the rescuer to take it back, however busy its owner stays.
    @discardableResult
    public func renewLeases(owner: String, events: [UUID], lease: Duration) async throws -> Int {
        let rows = try await store.write(
            """
            WITH u AS (
                UPDATE publish_jobs SET lease_expires_at = now() + make_interval(secs => \(Double(lease.components.seconds)))
                WHERE event_id = ANY(\(events)) AND state = 'running' AND lease_owner = \(owner) RETURNING 1)
            SELECT count(*) FROM u
            """, logger: store.logger)
        for count in try rows.decode(Int64.self) { return Int(count) }
        return 0
    }

    /// Queues again, one try fewer, the jobs of `events` still leased to `owner`, not among `known` (the jobs
    /// its worker runs or is about to start) and never marked for a publishing call: the worker never
    /// received them (a batch insert's or a claim's answer lost after its commit), so no try of theirs
    /// started, and they would otherwise wait for their lease to run out. Notifies the workers; returns how
    /// many were queued again.
    @discardableResult
    public func requeueUnreceived(_ events: [UUID], owner: String, except known: [UUID] = []) async throws -> Int {
        let rows = try await store.write(
            """
            WITH u AS (
                UPDATE publish_jobs SET state = 'queued', lease_owner = NULL, lease_expires_at = NULL,
                    attempt_count = attempt_count - 1, started_at = CASE WHEN attempt_count = 1 THEN NULL ELSE started_at END,
                    updated_at = now()
                WHERE event_id = ANY(\(events)) AND NOT (event_id = ANY(\(known)))
                  AND state = 'running' AND lease_owner = \(owner) AND publish_call_started_at IS NULL
                RETURNING 1),
            n AS (SELECT pg_notify(\(Store.notificationChannel), 'job') FROM (SELECT 1 FROM u LIMIT 1) AS any_job)
            SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n)
            """, logger: store.logger)
        for (count, _) in try rows.decode((Int64, Int64).self) { return Int(count) }
        return 0
    }

    /// The jobs leased to `owner`, not among `known` and never marked for a publishing call: the ones its
    /// worker may never have received. Those still so a heartbeat later are strays (`requeueUnreceived`).
    public func unreceived(owner: String, except known: [UUID]) async throws -> [UUID] {
        let rows = try await store.query(
            """
            SELECT event_id FROM publish_jobs
            WHERE state = 'running' AND lease_owner = \(owner) AND publish_call_started_at IS NULL
              AND NOT (event_id = ANY(\(known)))
            """, logger: store.logger)
        var events: [UUID] = []
        for try await event in rows.decode(UUID.self) { events.append(event) }
        return events
    }

    /// Where a job stood when an admin acted on it.
    public enum AdminAction: Sendable, Equatable {
        case done
        /// The job is in a state the action does not apply to.
        case refused(PublishState)
        case unknown
    }

    /// Cancels a job that has not started (`scheduled` or `queued`): it will never be published.
    public func cancel(_ eventID: UUID) async throws -> AdminAction {
        try await adminTransition(
            eventID, from: ["scheduled", "queued"],
            set: """
                state = 'cancelled', finished_at = now(), error_code = 409,
                error_info = 'The request was cancelled before it was published'
                """, notification: "done:" + eventID.lowercasedString)
    }

    /// Queues a `failed` or `indeterminate` job again, knowingly: an indeterminate one may then be posted twice.
    /// Its saved progress is kept, so an upload resumes; it gets a full set of attempts.
    public func retry(_ eventID: UUID) async throws -> AdminAction {
        try await adminTransition(
            eventID, from: ["failed", "indeterminate"],
            set: """
                state = 'queued', run_at = now(), finished_at = NULL, error_code = NULL, error_info = NULL, attempt_count = 0,
                publish_call_started_at = NULL
                """, notification: "job")
    }

    /// One statement: the change when the job is in one of `from`, else its current state.
    private func adminTransition(_ eventID: UUID, from states: [String], set assignments: String, notification: String) async throws
        -> AdminAction
    {
        var query = PostgresQuery(unsafeSQL: """
            WITH u AS (
                UPDATE publish_jobs SET \(assignments), updated_at = now()
                WHERE event_id = $1 AND state = ANY($2) RETURNING event_id),
            n AS (SELECT pg_notify($3, $4) FROM u)
            SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n), (SELECT state FROM publish_jobs WHERE event_id = $1)
            """)
        query.binds.append(eventID)
        query.binds.append(states)
        query.binds.append(Store.notificationChannel)
        query.binds.append(notification)
        let rows = try await store.write(query, logger: store.logger)
        for (updated, _, state) in try rows.decode((Int64, Int64, String?).self) {
            if updated == 1 { return .done }
            guard let state, let current = PublishState(rawValue: state) else { return .unknown }
            return .refused(current)
        }
        return .unknown
    }

    /// What the rescuer did with one job whose worker stopped renewing its lease.
    public struct Rescued: Sendable {
        public let eventID: UUID
        public let state: PublishState
    }

    /// Takes back jobs whose lease expired (their worker died or hung): queued again when the dead try had not
    /// started the publishing call, `indeterminate` when it had (it may have published), `failed` once a job
    /// has used all its attempts this way. Notifies workers and waiting requests.
    public func rescueExpired(maxAttempts: Int, limit: Int = 100) async throws -> [Rescued] {
        let rows = try await store.write(
            """
            WITH expired AS (
                SELECT event_id FROM publish_jobs
                WHERE state = 'running' AND lease_expires_at < now()
                ORDER BY lease_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED),
            decided AS (
                SELECT j.event_id,
                       CASE WHEN j.publish_call_started_at IS NOT NULL THEN 'indeterminate'
                            WHEN j.attempt_count >= \(maxAttempts) THEN 'failed'
                            ELSE 'queued' END AS next_state
                FROM publish_jobs j JOIN expired USING (event_id)),
            u AS (
                UPDATE publish_jobs j SET state = d.next_state, lease_owner = NULL, lease_expires_at = NULL, run_at = now(),
                    finished_at = CASE WHEN d.next_state = 'queued' THEN NULL ELSE now() END,
                    error_code = 502,
                    error_info = CASE d.next_state
                        WHEN 'indeterminate' THEN 'The worker stopped after sending the request that publishes; it may have been published, so it is not retried automatically'
                        WHEN 'failed' THEN 'The worker stopped during every attempt (' || j.attempt_count || ')'
                        ELSE 'The worker stopped before the publishing call; tried again' END,
                    updated_at = now()
                FROM decided d WHERE j.event_id = d.event_id
                RETURNING j.event_id, j.state, j.error_code, j.error_info),
            n AS (
                SELECT pg_notify(\(Store.notificationChannel), CASE WHEN u.state = 'queued' THEN 'job' ELSE 'done:' || u.event_id END)
                FROM u),
            c AS (
                SELECT enqueue_push_callbacks(u.event_id, u.state, NULL, u.error_code, u.error_info) FROM u WHERE u.state <> 'queued')
            SELECT u.event_id, u.state, (SELECT count(*) FROM n) + (SELECT count(*) FROM c) FROM u
            """, logger: store.logger)
        var rescued: [Rescued] = []
        for (eventID, state, _) in try rows.decode((UUID, String, Int64).self) {
            rescued.append(Rescued(eventID: eventID, state: PublishState(rawValue: state) ?? .queued))
        }
        return rescued
    }

    /// Saves intermediate provider ids (merged into `progress`) and the attempts so far, while the lease is held.
    public func saveProgress(_ eventID: UUID, owner: String, tryNumber: Int, progress: JSONValue, attempts: [ProviderAttempt])
        async throws
    {
        try await store.write(
            """
            WITH u AS (
                UPDATE publish_jobs SET progress = progress || \(progress.storable().serialized())::jsonb, updated_at = now()
                WHERE event_id = \(eventID) AND state = 'running' AND lease_owner = \(owner) RETURNING event_id)
            INSERT INTO provider_attempts (event_id, try_number, step, method, url, request_summary, http_status, outcome,
                                           response_excerpt, error, started_at, duration_ms)
            SELECT u.event_id, \(tryNumber), x.step, x.method, x.url, x.request_summary, x.http_status, x.outcome,
                   x.response_excerpt, x.error, x.started_at, x.duration_ms
            FROM u, jsonb_to_recordset(\(Self.attemptsJSON(attempts))::jsonb) AS x(
                step text, method text, url text, request_summary jsonb, http_status integer, outcome text,
                response_excerpt text, error text, started_at timestamptz, duration_ms double precision)
            """, logger: store.logger
        )
    }

    /// The state of one job (sync waiters check it after a wake-up).
    public func state(_ eventID: UUID) async throws -> PublishState? {
        let rows = try await store.query(
            "SELECT state FROM publish_jobs WHERE event_id = \(eventID)", logger: store.logger)
        for try await state in rows.decode(String.self) { return PublishState(rawValue: state) }
        return nil
    }

    static func attemptsJSON(_ attempts: [ProviderAttempt]) -> String {
        attemptsValue(attempts).storable().serialized()
    }

    static func attemptsValue(_ attempts: [ProviderAttempt]) -> JSONValue {
        JSONValue.array(
            attempts.map { attempt in
                [
                    "step": .string(attempt.step),
                    "method": .string(attempt.method),
                    "url": .string(attempt.url),
                    "request_summary": attempt.requestSummary,
                    "http_status": attempt.httpStatus.map { .integer(Int64($0)) } ?? .null,
                    "outcome": .string(attempt.outcome.rawValue),
                    "response_excerpt": attempt.responseExcerpt.map(JSONValue.string) ?? .null,
                    "error": attempt.error.map(JSONValue.string) ?? .null,
                    "started_at": .string(RFC3339.format(attempt.startedAt)),
                    "duration_ms": .double(attempt.durationMilliseconds),
                ]
            }
        )
    }
}
