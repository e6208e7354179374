import Testing

@testable import RelayCore

@Suite struct IdentityConnectionTests {
    let body = try! JSONValue.parse(
        Array(
            #"""
            {"type":"identity.connected","data":{"identity_token":"5c6e4a3c-6f1d-4a44-9d0e-2b9b1c1f0a11","provider":"twitter",
            "provider_user_id":1234567890123456789,"display_name":"Ada","credentials":{"access_token":"AT-secret","refresh_token":"RT-secret",
            "expires_at":"2026-12-01T00:00:00Z","scope":"tweet.write"},"accounts":[{"kind":"page","id":"1","name":"P","access_token":"PAGE-secret"}]}}
            """#.utf8))

    @Test func parsesEveryField() throws {
        let connection = try IdentityConnection.parse(body)
        #expect(connection.provider == .twitter)
        #expect(connection.providerUserID == "1234567890123456789")
        #expect(connection.credentials.accessToken == "AT-secret")
        #expect(connection.credentials.refreshToken == "RT-secret")
        #expect(connection.accounts.first?.accessToken == "PAGE-secret")
        #expect(connection.expiresAt == RFC3339.parse("2026-12-01T00:00:00Z"))
    }

    @Test func redactionRemovesEveryToken() {
        let stored = IdentityConnection.redacted(body).serialized()
        #expect(!stored.contains("secret"))
        #expect(stored.contains("display_name"))
    }

    @Test func credentialsNeverPrint() throws {
        let connection = try IdentityConnection.parse(body)
        #expect("\(connection.credentials)" == "Credentials(<redacted>)")
    }

    @Test func badBodiesAre400() throws {
        let wrongType = try JSONValue.parse(Array(#"{"type":"identity.disconnected","data":{}}"#.utf8))
        #expect(throws: RelayError.self) { try IdentityConnection.parse(wrongType) }
        let badProvider = body.setting("data", to: body["data"]!.setting("provider", to: "myspace"))
        do {
            _ = try IdentityConnection.parse(badProvider)
            Issue.record("accepted")
        } catch {
            #expect(error.status == 400)
            #expect(error.info.contains("data.provider"))
        }
    }

    /// Identifiers are keys of PostgreSQL indexes: past 255 bytes they are a 400 naming the field.
    @Test func identifiersHaveALimit() throws {
        let data = body["data"]!
        let longest = String(repeating: "7", count: FieldReader.maximumIdentifierLength)
        #expect(try IdentityConnection.parse(body.setting("data", to: data.setting("provider_user_id", to: .string(longest)))).providerUserID == longest)
        #expect(throws: RelayError.badRequest("data.provider_user_id is 256 bytes long; identifiers are at most 255")) {
            try IdentityConnection.parse(body.setting("data", to: data.setting("provider_user_id", to: .string(longest + "7"))))
        }
        let account: JSONValue = ["kind": "page", "id": .string(String(repeating: "é", count: 128)), "name": "P"]
        #expect(throws: RelayError.badRequest("data.accounts[0].id is 256 bytes long; identifiers are at most 255")) {
            try IdentityConnection.parse(body.setting("data", to: data.setting("accounts", to: [account])))
        }
    }
}
