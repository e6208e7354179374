import Crypto
import Foundation
import PostgresNIO
import RelayCore

/// A Push API client's key pair, as shown once when it is created.
public struct CreatedAPIKey: Sendable {
    public let id: Int64
    public let publicKey: String
    public let privateKey: String
    /// `whsec_…`: signs the callbacks sent to this key's per-request `callback_url`s.
    public let callbackSecret: String
}

/// An API key as `pushrelay keys list` shows it: never its private key or its callback secret.
public struct APIKeySummary: Sendable {
    public let publicKey: String
    public let description: String
    public let createdAt: Date
    public let revokedAt: Date?
}

/// What `revoke` did; `description` is the key's note (`PUSHRELAY_API_KEY` for the key a relay keeps from its
/// environment, which it enables again at its next start).
public enum APIKeyRevocation: Sendable, Equatable {
    case revoked(description: String)
    case alreadyRevoked(at: Date, description: String)
    case unknown
}

/// Stores API keys: private keys only as SHA-256, callback secrets only as ciphertext.
public struct APIKeyRepository: Sendable {
    let store: Store

    /// Makes a new key pair (OneAll-style UUID public and private keys).
    public func create(description: String) async throws -> CreatedAPIKey {
        try await insert(
            publicKey: UUID().lowercasedString, privateKey: UUID().lowercasedString,
            callbackSecret: Self.newCallbackSecret(), description: description)
    }

    /// Makes sure the key given by `PUSHRELAY_API_KEY` exists with this private key.
    /// Returns the callback secret when one was generated (to be printed once), nil when it was kept or given.
    /// One statement, so processes starting together with the same key do not race each other.
    public func ensure(publicKey: String, privateKey: String, callbackSecret: String?) async throws -> String? {
        let hash = Data(SHA256.hash(data: Data(privateKey.utf8)))
        let secret = callbackSecret ?? Self.newCallbackSecret()
        let sealed = try store.cipher.seal(secret)
        let replaceSecret = callbackSecret != nil
        let rows = try await store.write(
            """
            INSERT INTO api_keys AS k (public_key, private_key_sha256, callback_secret, callback_secret_key_id, description)
            VALUES (\(publicKey), \(hash), \(sealed), \(store.cipher.keyID), 'PUSHRELAY_API_KEY')
            ON CONFLICT (public_key) DO UPDATE SET
                private_key_sha256 = EXCLUDED.private_key_sha256, revoked_at = NULL,
                callback_secret = CASE WHEN \(replaceSecret) THEN EXCLUDED.callback_secret ELSE k.callback_secret END,
                callback_secret_key_id = CASE WHEN \(replaceSecret) THEN EXCLUDED.callback_secret_key_id ELSE k.callback_secret_key_id END
            RETURNING xmax = 0
            """, logger: store.logger)
        var inserted = false
        for value in try rows.decode(Bool.self) { inserted = value }
        return inserted && callbackSecret == nil ? secret : nil
    }

    func insert(publicKey: String, privateKey: String, callbackSecret: String, description: String) async throws
        -> CreatedAPIKey
    {
        let hash = Data(SHA256.hash(data: Data(privateKey.utf8)))
        let sealed = try store.cipher.seal(callbackSecret)
        let rows = try await store.write(
            """
            INSERT INTO api_keys (public_key, private_key_sha256, callback_secret, callback_secret_key_id, description)
            VALUES (\(publicKey), \(hash), \(sealed), \(store.cipher.keyID), \(description)) RETURNING id
            """, logger: store.logger)
        for id in try rows.decode(Int64.self) {
            return CreatedAPIKey(id: id, publicKey: publicKey, privateKey: privateKey, callbackSecret: callbackSecret)
        }
        throw DatabaseError("inserting the API key returned no id")
    }

    /// Every key, oldest first.
    public func list() async throws -> [APIKeySummary] {
        let rows = try await store.query(
            "SELECT public_key, description, created_at, revoked_at FROM api_keys ORDER BY created_at, id", logger: store.logger)
        var keys: [APIKeySummary] = []
        for try await (publicKey, description, createdAt, revokedAt) in rows.decode((String, String, Date, Date?).self) {
            keys.append(APIKeySummary(publicKey: publicKey, description: description, createdAt: createdAt, revokedAt: revokedAt))
        }
        return keys
    }

    /// Refuses the key from now on (each relay process within the minute it keeps a key it has checked).
    /// The key stays, so that the events it made keep their author.
    public func revoke(publicKey: String) async throws -> APIKeyRevocation {
        let rows = try await store.write(
            """
            WITH target AS (SELECT id, revoked_at, description FROM api_keys WHERE public_key = \(publicKey) FOR UPDATE),
            revoked AS (UPDATE api_keys k SET revoked_at = now() FROM target WHERE k.id = target.id AND target.revoked_at IS NULL RETURNING k.id)
            SELECT target.revoked_at, target.description FROM target
            """, logger: store.logger)
        for (earlier, description) in try rows.decode((Date?, String).self) {
            return earlier.map { .alreadyRevoked(at: $0, description: description) } ?? .revoked(description: description)
        }
        return .unknown
    }

    /// The key's id when the pair is valid and not revoked.
    public func authenticate(publicKey: String, privateKey: String) async throws -> Int64? {
        let rows = try await store.query(
            "SELECT id, private_key_sha256 FROM api_keys WHERE public_key = \(publicKey) AND revoked_at IS NULL",
            logger: store.logger)
        let given = Data(SHA256.hash(data: Data(privateKey.utf8)))
        for try await (id, stored) in rows.decode((Int64, Data).self) {
            return Self.constantTimeEqual(stored, given) ? id : nil
        }
        return nil
    }

    static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// `whsec_` + base64 of 24 random bytes, the Standard Webhooks secret format.
    public static func newCallbackSecret() -> String {
        "whsec_" + SymmetricKey(size: .init(bitCount: 192)).withUnsafeBytes { Data($0).base64EncodedString() }
    }
}
