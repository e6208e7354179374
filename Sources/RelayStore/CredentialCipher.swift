import Crypto
import Foundation

/// Encrypts provider tokens and secrets at rest with AES-GCM (`PUSHRELAY_ENCRYPTION_KEY`).
///
/// The stored form is `nonce | ciphertext | tag` next to a key id, so a database dump reveals no
/// token and a row encrypted under another key is recognised instead of failing obscurely.
public struct CredentialCipher: Sendable {
    /// Kept as bytes (SymmetricKey is not Sendable); a SymmetricKey is made per operation.
    private let keyBytes: Data
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    /// First 8 bytes of the key's SHA-256, hex: identifies the key without revealing it.
    public let keyID: String

    public init(base64Key: String) throws {
        guard let data = Data(base64Encoded: base64Key), data.count == 32 else {
            throw DatabaseError("PUSHRELAY_ENCRYPTION_KEY must be the base64 of exactly 32 bytes")
        }
        keyBytes = data
        keyID = SHA256.hash(data: data).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    /// A new random key, base64 (managed mode writes one into `.pushrelay/`).
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    public func seal(_ plaintext: Data) throws -> Data {
        guard let combined = try AES.GCM.seal(plaintext, using: key).combined else {
            throw DatabaseError("AES-GCM produced no combined form")
        }
        return combined
    }

    public func seal(_ text: String) throws -> Data { try seal(Data(text.utf8)) }

    public func open(_ ciphertext: Data, keyID storedKeyID: String) throws -> Data {
        guard storedKeyID == keyID else {
            throw DatabaseError(
                "a credential was encrypted with key \(storedKeyID), but PUSHRELAY_ENCRYPTION_KEY is key \(keyID)")
        }
        return try AES.GCM.open(AES.GCM.SealedBox(combined: ciphertext), using: key)
    }

    public func openString(_ ciphertext: Data, keyID: String) throws -> String {
        String(decoding: try open(ciphertext, keyID: keyID), as: UTF8.self)
    }
}
