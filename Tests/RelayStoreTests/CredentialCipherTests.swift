import Foundation
import Testing

@testable import RelayStore

@Suite struct CredentialCipherTests {
    @Test func sealsAndOpens() throws {
        let cipher = try CredentialCipher(base64Key: CredentialCipher.generateKey())
        let sealed = try cipher.seal("AT-very-secret")
        #expect(!String(decoding: sealed, as: UTF8.self).contains("very-secret"))
        #expect(try cipher.openString(sealed, keyID: cipher.keyID) == "AT-very-secret")
        #expect(try cipher.seal("AT-very-secret") != sealed, "each seal uses a fresh nonce")
    }

    @Test func otherKeyIsRecognised() throws {
        let one = try CredentialCipher(base64Key: CredentialCipher.generateKey())
        let other = try CredentialCipher(base64Key: CredentialCipher.generateKey())
        #expect(one.keyID != other.keyID)
        #expect(one.keyID.count == 16)
        let sealed = try one.seal("x")
        #expect(throws: DatabaseError.self) { try other.open(sealed, keyID: one.keyID) }
    }

    @Test func tamperingIsDetected() throws {
        let cipher = try CredentialCipher(base64Key: CredentialCipher.generateKey())
        var sealed = try cipher.seal("token")
        sealed[sealed.count - 1] ^= 1
        #expect(throws: (any Error).self) { try cipher.open(sealed, keyID: cipher.keyID) }
    }

    @Test func keyMustBe32Bytes() {
        #expect(throws: DatabaseError.self) { try CredentialCipher(base64Key: Data(count: 16).base64EncodedString()) }
        #expect(throws: DatabaseError.self) { try CredentialCipher(base64Key: "not base64") }
    }
}
