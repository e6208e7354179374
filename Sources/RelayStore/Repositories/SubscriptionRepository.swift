import Foundation
import PostgresNIO
import RelayCore

/// A subscriber URL and the callback types it receives (its secret is shown only when it is created).
public struct Subscription: Sendable {
    public let id: UUID
    public let url: String
    public let events: [String]
    public let description: String
    public let state: String
    public let createdAt: Date
}

/// Subscriptions to callbacks (DESIGN §4): created and listed through the API, or inserted by an admin.
public struct SubscriptionRepository: Sendable {
    let store: Store

    public static let eventTypes = [
        "push.succeeded", "push.failed", "push.indeterminate", "identity.connected", "identity.disconnected", "identity.needs_reconnect",
    ]

    /// Creates a subscription; returns it with its `whsec_` secret, which is stored only encrypted.
    public func create(url: String, events: [String], description: String, apiKeyID: Int64?) async throws -> (Subscription, secret: String) {
        let secret = APIKeyRepository.newCallbackSecret()
        let sealed = try store.cipher.seal(secret)
        let rows = try await store.write(
            """
            INSERT INTO subscriptions (url, events, description, secret, secret_key_id, api_key_id)
            VALUES (\(url), \(events), \(description), \(sealed), \(store.cipher.keyID), \(apiKeyID))
            RETURNING id, url, events, description, state, created_at
            """, logger: store.logger)
        for row in try rows.decode((UUID, String, [String], String, String, Date).self) {
            return (Subscription(id: row.0, url: row.1, events: row.2, description: row.3, state: row.4, createdAt: row.5), secret)
        }
        throw DatabaseError("the subscription was not created")
    }

    /// Encrypts the secrets of subscriptions an admin inserted with SQL (`secret` in clear, no
    /// `secret_key_id`). Returns how many were sealed.
    @discardableResult
    public func sealPlaintextSecrets() async throws -> Int {
        let rows = try await store.query("SELECT id, secret FROM subscriptions WHERE secret_key_id IS NULL", logger: store.logger)
        var pending: [(UUID, Data)] = []
        for try await row in rows.decode((UUID, Data).self) { pending.append(row) }
        for (id, clear) in pending {
            let sealed = try store.cipher.seal(String(decoding: clear, as: UTF8.self))
            try await store.write(
                """
                UPDATE subscriptions SET secret = \(sealed), secret_key_id = \(store.cipher.keyID)
                WHERE id = \(id) AND secret_key_id IS NULL AND secret = \(clear)
                """, logger: store.logger
            )
            store.logger.info("encrypted the secret of a subscription inserted with SQL", metadata: ["subscription_id": "\(id)"])
        }
        return pending.count
    }

    /// The active subscriptions, newest first.
    public func list() async throws -> [Subscription] {
        let rows = try await store.query(
            """
            SELECT id, url, events, description, state, created_at FROM subscriptions WHERE state = 'active' ORDER BY created_at DESC
            """, logger: store.logger)
        var subscriptions: [Subscription] = []
        for try await row in rows.decode((UUID, String, [String], String, String, Date).self) {
            subscriptions.append(Subscription(id: row.0, url: row.1, events: row.2, description: row.3, state: row.4, createdAt: row.5))
        }
        return subscriptions
    }

    /// Disables a subscription (kept for the history of its callbacks). False when there is no active one with that id.
    public func disable(_ id: UUID, reason: String) async throws -> Bool {
        let rows = try await store.write(
            """
            UPDATE subscriptions SET state = 'disabled', disabled_at = now(), disabled_reason = \(reason)
            WHERE id = \(id) AND state = 'active' RETURNING 1
            """, logger: store.logger)
        return !rows.isEmpty
    }
}
