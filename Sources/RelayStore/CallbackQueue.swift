import Foundation
import PostgresNIO
import RelayCore

/// A callback leased to a delivery worker, with the secret that signs it (decrypted).
public struct ClaimedCallback: Sendable {
    public let id: UUID
    public let url: String
    public let payload: String
    /// 1 for the first delivery try.
    public let attempt: Int
    /// Nil only for a webhook request's callback_url when no webhook secret is configured to sign it.
    public let secret: String?
    public let subscriptionID: UUID?
}

/// How one delivery try ended.
public struct CallbackDelivery: Sendable {
    public enum Next: Sendable {
        case delivered
        case retry(at: Date)
        case dead
    }

    public var httpStatus: Int?
    public var error: String?
    public var responseExcerpt: String?
    public var startedAt: Date
    public var durationMilliseconds: Double
    public var next: Next
    /// 410 Gone: the subscription asked to be removed.
    public var disablesSubscription: Bool

    public init(
        httpStatus: Int?, error: String?, responseExcerpt: String?, startedAt: Date, durationMilliseconds: Double, next: Next,
        disablesSubscription: Bool
    ) {
        self.httpStatus = httpStatus
        self.error = error
        self.responseExcerpt = responseExcerpt
        self.startedAt = startedAt
        self.durationMilliseconds = durationMilliseconds
        self.next = next
        self.disablesSubscription = disablesSubscription
    }
}

/// One delivery try to record, as `CallbackQueue.record(_:)` writes it.
public struct RecordedDelivery: Sendable {
    public let callbackID: UUID
    /// The lease holder: the record is written only if it still holds the callback.
    public let owner: String
    public let attempt: Int
    public let delivery: CallbackDelivery

    public init(callbackID: UUID, owner: String, attempt: Int, delivery: CallbackDelivery) {
        self.callbackID = callbackID
        self.owner = owner
        self.attempt = attempt
        self.delivery = delivery
    }

    /// One element of `record_callback_deliveries`'s batch (migration 0009).
    var json: JSONValue {
        var state = "pending"
        var nextAt: Date?
        switch delivery.next {
        case .delivered: state = "delivered"
        case .retry(let at): nextAt = at
        case .dead: state = "dead"
        }
        let entry: JSONValue = [
            "id": .string(callbackID.lowercasedString),
            "owner": .string(owner),
            "attempt": .integer(Int64(attempt)),
            "state": .string(state),
            "next_attempt_at": nextAt.map { .string(RFC3339.format($0)) } ?? .null,
            "http_status": delivery.httpStatus.map { .integer(Int64($0)) } ?? .null,
            "error": delivery.error.map(JSONValue.string) ?? .null,
            "response_excerpt": delivery.responseExcerpt.map(JSONValue.string) ?? .null,
            "started_at": .string(RFC3339.format(delivery.startedAt)),
            "duration_ms": .double(delivery.durationMilliseconds),
            "disables_subscription": .bool(delivery.disablesSubscription),
        ]
        return entry.storable()
    }
}

/// The callback queue: claim due callbacks with `FOR UPDATE SKIP LOCKED` under a lease, record each try.
public struct CallbackQueue: Sendable {
    let store: Store

    /// The claim of `claim(owner:limit:lease:webhookSecret:)` (prepared: `ClaimCallbacks`). Its commit is
    /// neither waited for on the disk nor confirmed: a lost claim means a delivery made again, with the
    /// same `webhook-id`, which callbacks allow (at least once). Due and abandoned callbacks are looked
    /// up apart, each by its partial index: one OR of the two would read the whole table at every claim.
    /// The rows locked are joined back by key. The plan is made once per connection, often while
    /// `callbacks` is small and never analyzed (a worker claims before the first callback exists); written
    /// as `id = ANY (ARRAY(…))` (ten keys, the planner guesses) it was then a sequential scan, kept as the
    /// table grew: 5–8 ms a claim at 5000–15000 callbacks, until an autoanalyze replaced the plan
    /// (`ClaimPlanTests` plans it on a new database and on a busy one).
    static func claimQuery(owner: String, limit: Int, leaseSeconds: Double) -> PostgresQuery {
        """
        WITH due AS (
            SELECT id FROM callbacks WHERE state = 'pending' AND next_attempt_at <= now()
            ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED),
        abandoned AS (
            SELECT id FROM callbacks WHERE state = 'delivering' AND lease_expires_at < now()
            ORDER BY lease_expires_at LIMIT \(limit) FOR UPDATE SKIP LOCKED),
        c AS (SELECT id FROM abandoned UNION ALL SELECT id FROM due LIMIT \(limit))
        UPDATE callbacks k SET state = 'delivering', lease_owner = \(owner),
            lease_expires_at = now() + make_interval(secs => \(leaseSeconds)), attempt_count = k.attempt_count + 1
        FROM c, (SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit WHERE k.id = c.id
        RETURNING k.id, k.url, k.payload::text, k.attempt_count, k.subscription_id,
            (SELECT s.secret FROM subscriptions s WHERE s.id = k.subscription_id),
            (SELECT s.secret_key_id FROM subscriptions s WHERE s.id = k.subscription_id),
            (SELECT a.callback_secret FROM api_keys a WHERE a.id = k.api_key_id),
            (SELECT a.callback_secret_key_id FROM api_keys a WHERE a.id = k.api_key_id)
        """
    }

    enum ClaimCallbacks: PreparedStatementKey {
        static let sql = claimQuery(owner: "", limit: 0, leaseSeconds: 0).sql
    }

    /// Leases up to `limit` due callbacks; also takes back deliveries whose worker died (a re-delivery carries
    /// the same `webhook-id`, so subscribers can drop the duplicate).
    /// `webhookSecret` signs the callback_url of publish-requested webhooks (they come with no API key).
    public func claim(owner: String, limit: Int, lease: Duration, webhookSecret: String?) async throws -> [ClaimedCallback] {
        let rows = try await store.writeUnconfirmed(
            Self.claimQuery(owner: owner, limit: limit, leaseSeconds: Double(lease.components.seconds)), preparedAs: ClaimCallbacks.self,
            logger: store.logger)
        var claimed: [ClaimedCallback] = []
        var sawPlaintext = false
        for row in try rows.decode((UUID, String, String, Int, UUID?, Data?, String?, Data?, String?).self) {
            var secret: String?
            if let sealed = row.5 ?? row.7 {
                if let keyID = row.6 ?? row.8 {
                    // A secret that cannot be opened (a rotated-away key) leaves this callback unsignable, not the batch.
                    secret = try? store.cipher.openString(sealed, keyID: keyID)
                } else {
                    secret = String(decoding: sealed, as: UTF8.self)
                    sawPlaintext = true
                }
            } else if row.4 == nil {
                secret = webhookSecret
            }
            claimed.append(ClaimedCallback(id: row.0, url: row.1, payload: row.2, attempt: row.3, secret: secret, subscriptionID: row.4))
        }
        if sawPlaintext { try await store.subscriptions.sealPlaintextSecrets() }
        return claimed
    }

    /// Records tries and moves their callbacks on (procedure `record_callback_deliveries`: one CALL for the
    /// batch the callback worker's `GroupCommit` gathers); a 410 disables its subscription. A delivery whose
    /// lease was lost is skipped.
    ///
    /// Not waited for on the disk (`synchronous_commit` off inside): under load a synchronous commit waited
    /// ~10 ms here, and a record lost in a crash only means the callback is delivered again, with the same
    /// `webhook-id` (callbacks are at least once).
    public func record(_ deliveries: [RecordedDelivery]) async throws -> [Result<Void, any Error>] {
        let batch = JSONValue.array(deliveries.map(\.json)).serialized()
        try await store.call("CALL record_callback_deliveries(\(batch)::jsonb, NULL)", logger: store.logger)
        return deliveries.map { _ in .success(()) }
    }

    /// Sends an event's callbacks again (same ids, so the same `webhook-id`). Returns how many.
    public func replay(_ eventID: UUID) async throws -> Int {
        let rows = try await store.write(
            """
            WITH u AS (
                UPDATE callbacks SET state = 'pending', next_attempt_at = now(), attempt_count = 0, delivered_at = NULL,
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE event_id = \(eventID) RETURNING 1),
            n AS (SELECT pg_notify(\(Store.notificationChannel), 'callback') FROM (SELECT 1 FROM u LIMIT 1) AS any_replayed)
            SELECT (SELECT count(*) FROM u), (SELECT count(*) FROM n)
            """, logger: store.logger)
        for (count, _) in try rows.decode((Int64, Int64).self) { return Int(count) }
        return 0
    }

    /// The callbacks of an event with their tries, for `GET /push/events/<id>.json`.
    public func forEvent(_ eventID: UUID) async throws -> [JSONValue] {
        let rows = try await store.query(
            """
            SELECT k.id, k.type, k.url, k.state, k.subscription_id, k.attempt_count, k.delivered_at,
                   coalesce((SELECT json_agg(json_build_object('attempt', a.attempt, 'status', a.http_status, 'error', a.error,
                                'duration_ms', a.duration_ms, 'started_at', a.started_at) ORDER BY a.id)
                             FROM callback_attempts a WHERE a.callback_id = k.id), '[]')::text
            FROM callbacks k WHERE k.event_id = \(eventID) ORDER BY k.created_at, k.id
            """, logger: store.logger)
        var callbacks: [JSONValue] = []
        for try await row in rows.decode((UUID, String, String, String, UUID?, Int, Date?, String).self) {
            callbacks.append([
                "webhook_id": .string("msg_\(row.0.lowercasedString)"), "type": .string(row.1), "url": .string(row.2),
                "state": .string(row.3), "subscription_id": row.4.map { .string($0.lowercasedString) } ?? .null,
                "attempt_count": .integer(Int64(row.5)), "delivered_at": row.6.map { .string(RFC3339.format($0)) } ?? .null,
                "attempts": JSONValue.parse(text: row.7) ?? [],
            ])
        }
        return callbacks
    }
}
