import Foundation
import PostgresNIO
import RelayCore

/// An identity as the API shows it: never a credential.
public struct IdentityRecord: Sendable {
    public struct Account: Sendable {
        public let kind: String
        public let id: String
        public let name: String
        public let hasAccessToken: Bool
    }

    public let identityToken: UUID
    public let userToken: String?
    public let provider: Provider
    public let providerUserID: String
    public let displayName: String
    public let state: String
    public let scope: String?
    public let tokenExpiresAt: Date?
    public let connectedAt: Date
    public let updatedAt: Date
    public var accounts: [Account]
}

/// What an identity webhook did: the event that recorded it and the identity concerned.
public struct IdentityChange: Sendable {
    public let eventID: UUID
    public let identityToken: UUID
    public let provider: Provider
    /// True when the `webhook-id` was seen before: nothing was changed this time.
    public let isReplay: Bool
}

/// Identities and their accounts: connect, disconnect, look up, decrypt for the engine.
public struct IdentityRepository: Sendable {
    let store: Store

    /// Applies an identity-connected webhook and records its event, in one transaction.
    public func connect(_ identity: IdentityConnection, rawBody: JSONValue, webhookID: String) async throws -> IdentityChange {
        let credentials = try store.cipher.seal(try JSONEncoder().encode(identity.credentials))
        let keyID = store.cipher.keyID
        let accountTokens = try identity.accounts.map { try $0.accessToken.map { try store.cipher.seal($0) } }
        let logger = store.logger
        return try await store.transaction { db -> IdentityChange in
            let recorded = try await EventRepository.insertEvent(
                NewEvent(
                    kind: "identity.connected", source: "webhook", idempotencyKey: "webhook:\(webhookID)",
                    requestHash: nil, identityToken: nil, provider: identity.provider.rawValue, path: nil,
                    apiKeyID: nil, body: IdentityConnection.redacted(rawBody)),
                on: db, logger: logger)
            if case .existing(let eventID, _) = recorded {
                return try await Self.replay(eventID: eventID, on: db, logger: logger)
            }
            let eventID = recorded.eventID
            if let requested = identity.identityToken {
                // Webhooks for one token are applied one at a time: two that arrive together for different
                // accounts would both find the token free, and the second insert would fail on its key.
                try await db.query(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\(requested.lowercasedString), 0))", logger: logger
                ).drain()
                let rows = try await db.query(
                    "SELECT provider, provider_user_id FROM identities WHERE identity_token = \(requested)", logger: logger)
                for try await (provider, userID) in rows.decode((String, String).self)
                where provider != identity.provider.rawValue || userID != identity.providerUserID {
                    throw RelayError.conflict(
                        "identity_token \(requested.lowercasedString) already belongs to another account (\(provider) user \(userID))")
                }
            }
            let token = identity.identityToken ?? UUID()
            let rows = try await db.query(
                """
                INSERT INTO identities (identity_token, user_token, provider, provider_user_id, display_name, state,
                                        credentials, credentials_key_id, token_expires_at, scope)
                VALUES (\(token), \(identity.userToken), \(identity.provider.rawValue), \(identity.providerUserID),
                        \(identity.displayName), 'connected', \(credentials), \(keyID), \(identity.expiresAt), \(identity.scope))
                ON CONFLICT (provider, provider_user_id) DO UPDATE SET
                    user_token = coalesce(excluded.user_token, identities.user_token),
                    display_name = excluded.display_name, state = 'connected',
                    credentials = excluded.credentials, credentials_key_id = excluded.credentials_key_id,
                    token_expires_at = excluded.token_expires_at, scope = excluded.scope,
                    updated_at = now(), disconnected_at = NULL
                RETURNING identity_token
                """, logger: logger)
            var identityToken = token
            for try await value in rows.decode(UUID.self) { identityToken = value }
            try await db.query(
                "DELETE FROM identity_accounts WHERE identity_token = \(identityToken)", logger: logger
            ).drain()
            for (account, sealedToken) in zip(identity.accounts, accountTokens) {
                try await db.query(
                    """
                    INSERT INTO identity_accounts (identity_token, kind, account_id, name, access_token, access_token_key_id)
                    VALUES (\(identityToken), \(account.kind.rawValue), \(account.id), \(account.name), \(sealedToken),
                            \(sealedToken == nil ? nil : keyID))
                    ON CONFLICT (identity_token, kind, account_id) DO UPDATE SET name = excluded.name,
                        access_token = excluded.access_token, access_token_key_id = excluded.access_token_key_id
                    """, logger: logger
                ).drain()
            }
            try await db.query(
                "UPDATE events SET identity_token = \(identityToken) WHERE id = \(eventID)", logger: logger
            ).drain()
            try await db.query(
                "SELECT enqueue_identity_callbacks(\(eventID), 'identity.connected', \(identityToken))", logger: logger
            ).drain()
            return IdentityChange(eventID: eventID, identityToken: identityToken, provider: identity.provider, isReplay: false)
        }
    }

    /// Applies an identity-disconnected webhook: credentials erased, later pushes get 404.
    public func disconnect(_ identityToken: UUID, rawBody: JSONValue, webhookID: String) async throws -> IdentityChange {
        let logger = store.logger
        return try await store.transaction { connection -> IdentityChange in
            let recorded = try await EventRepository.insertEvent(
                NewEvent(
                    kind: "identity.disconnected", source: "webhook", idempotencyKey: "webhook:\(webhookID)",
                    requestHash: nil, identityToken: identityToken, provider: nil, path: nil, apiKeyID: nil, body: rawBody),
                on: connection, logger: logger)
            if case .existing(let eventID, _) = recorded {
                return try await Self.replay(eventID: eventID, on: connection, logger: logger)
            }
            let rows = try await connection.query(
                """
                UPDATE identities SET state = 'disconnected', credentials = NULL, credentials_key_id = NULL,
                    disconnected_at = now(), updated_at = now()
                WHERE identity_token = \(identityToken) AND state <> 'disconnected'
                RETURNING provider
                """, logger: logger)
            var provider: Provider?
            for try await name in rows.decode(String.self) { provider = Provider(rawValue: name) }
            guard let provider else {
                throw RelayError.notFound("Unknown identity_token \(identityToken.lowercasedString)")
            }
            try await connection.query(
                """
                UPDATE identity_accounts SET access_token = NULL, access_token_key_id = NULL WHERE identity_token = \(identityToken);
                """, logger: logger
            ).drain()
            try await connection.query(
                "UPDATE events SET provider = \(provider.rawValue) WHERE id = \(recorded.eventID)", logger: logger
            ).drain()
            try await connection.query(
                "SELECT enqueue_identity_callbacks(\(recorded.eventID), 'identity.disconnected', \(identityToken))", logger: logger
            ).drain()
            return IdentityChange(eventID: recorded.eventID, identityToken: identityToken, provider: provider, isReplay: false)
        }
    }

    static func replay(eventID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> IdentityChange {
        let rows = try await connection.query(
            "SELECT identity_token, provider FROM events WHERE id = \(eventID)", logger: logger)
        for try await (token, provider) in rows.decode((UUID?, String?).self) {
            if let token, let provider = provider.flatMap(Provider.init(rawValue:)) {
                return IdentityChange(eventID: eventID, identityToken: token, provider: provider, isReplay: true)
            }
        }
        throw DatabaseError("event \(eventID) has no identity")
    }

    /// A connected (or needs_reconnect) identity; nil when unknown or disconnected.
    public func find(_ identityToken: UUID) async throws -> IdentityRecord? {
        let rows = try await store.query(
            """
            SELECT identity_token, user_token, provider, provider_user_id, display_name, state, scope,
                   token_expires_at, connected_at, updated_at
            FROM identities WHERE identity_token = \(identityToken) AND state <> 'disconnected'
            """, logger: store.logger)
        var record: IdentityRecord?
        for try await row in rows {
            let r = row.makeRandomAccess()
            record = IdentityRecord(
                identityToken: try r["identity_token"].decode(UUID.self),
                userToken: try r["user_token"].decode(String?.self),
                provider: Provider(rawValue: try r["provider"].decode(String.self))!,
                providerUserID: try r["provider_user_id"].decode(String.self),
                displayName: try r["display_name"].decode(String.self),
                state: try r["state"].decode(String.self),
                scope: try r["scope"].decode(String?.self),
                tokenExpiresAt: try r["token_expires_at"].decode(Date?.self),
                connectedAt: try r["connected_at"].decode(Date.self),
                updatedAt: try r["updated_at"].decode(Date.self),
                accounts: [])
        }
        guard var record else { return nil }
        let accounts = try await store.query(
            """
            SELECT kind, account_id, name, access_token IS NOT NULL FROM identity_accounts
            WHERE identity_token = \(identityToken) ORDER BY kind, account_id
            """, logger: store.logger)
        for try await (kind, id, name, hasToken) in accounts.decode((String, String, String, Bool).self) {
            record.accounts.append(.init(kind: kind, id: id, name: name, hasAccessToken: hasToken))
        }
        return record
    }

    /// Keeps the tokens a refresh returned (encrypted), so the next call uses them, if the identity is
    /// still connected with the tokens that were refreshed (`replacing`, as stored). Returns the new tokens
    /// as stored, or nil when they were not stored: the user reconnected (or disconnected) while the refresh
    /// was in flight, and the new connection's tokens win.
    public func storeRefreshedCredentials(
        _ identityToken: UUID, _ credentials: Credentials, expiresAt: Date?, replacing previous: Data?
    ) async throws -> Data? {
        let sealed = try store.cipher.seal(try JSONEncoder().encode(credentials))
        let rows = try await store.write(
            """
            UPDATE identities SET credentials = \(sealed), credentials_key_id = \(store.cipher.keyID),
                token_expires_at = \(expiresAt), updated_at = now()
            WHERE identity_token = \(identityToken) AND state = 'connected' AND credentials IS NOT DISTINCT FROM \(previous)
            RETURNING identity_token
            """, logger: store.logger
        )
        return rows.isEmpty ? nil : sealed
    }

    /// Adds or updates one account of an identity with its token (encrypted): a page token looked up by an adapter.
    public func storeAccount(_ identityToken: UUID, _ account: PublishAccount) async throws {
        let sealed = try account.accessToken.map { try store.cipher.seal($0) }
        let keyID = sealed == nil ? nil : store.cipher.keyID
        try await store.write(
            """
            INSERT INTO identity_accounts (identity_token, kind, account_id, name, access_token, access_token_key_id)
            VALUES (\(identityToken), \(account.kind), \(account.id.storable), \(account.name.storable), \(sealed), \(keyID))
            ON CONFLICT (identity_token, kind, account_id) DO UPDATE SET
                name = CASE WHEN EXCLUDED.name = '' THEN identity_accounts.name ELSE EXCLUDED.name END,
                access_token = EXCLUDED.access_token, access_token_key_id = EXCLUDED.access_token_key_id
            """, logger: store.logger
        )
    }

    /// The provider refused the token and it could not be refreshed (while publishing `eventID`):
    /// the identity needs its user to reconnect, and subscribers hear of it once.
    /// Only while `tokens` (as stored) are still the identity's: a user who reconnected since they were read
    /// is not marked for the old tokens' failure.
    public func markNeedsReconnect(_ identityToken: UUID, during eventID: UUID, tokens: Data?) async throws {
        try await store.write(
            """
            WITH u AS (
                UPDATE identities SET state = 'needs_reconnect', updated_at = now()
                WHERE identity_token = \(identityToken) AND state = 'connected' AND credentials IS NOT DISTINCT FROM \(tokens)
                RETURNING identity_token)
            SELECT enqueue_identity_callbacks(\(eventID), 'identity.needs_reconnect', u.identity_token) FROM u
            """, logger: store.logger
        )
    }
}
