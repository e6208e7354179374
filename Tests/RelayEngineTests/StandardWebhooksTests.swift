import Foundation
import RelayCore
import Testing

@testable import RelayEngine

@Suite struct StandardWebhooksTests {
    /// The example of the Standard Webhooks specification (standard-webhooks/spec, "Signature scheme").
    @Test func matchesTheSpecificationExample() throws {
        let webhooks = StandardWebhooks(secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        let body = Data(#"{"test": 2432232314}"#.utf8)
        let signature = webhooks.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: body)
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        try webhooks.verify(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: "1614265330", signature: signature, body: body,
            now: Date(timeIntervalSince1970: 1_614_265_330))
    }

    let webhooks = StandardWebhooks(secrets: ["whsec_" + Data(repeating: 7, count: 24).base64EncodedString()])
    let now = Date(timeIntervalSince1970: 1_795_600_800)
    let body = Data(#"{"type":"identity.disconnected"}"#.utf8)

    func failure(id: String? = "msg_1", timestamp: String? = "1795600800", signature: String?, body: Data? = nil) -> RelayError? {
        do {
            try webhooks.verify(id: id, timestamp: timestamp, signature: signature, body: body ?? self.body, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func goodSignaturePasses() {
        #expect(failure(signature: webhooks.signature(id: "msg_1", timestamp: 1_795_600_800, body: body)) == nil)
    }

    @Test func tamperedBodyFails() {
        let signature = webhooks.signature(id: "msg_1", timestamp: 1_795_600_800, body: body)
        #expect(failure(signature: signature, body: Data("{}".utf8))?.status == 401)
    }

    @Test func staleAndFutureTimestampsFail() {
        for offset in [-301, 301] {
            let timestamp = 1_795_600_800 + offset
            let signature = webhooks.signature(id: "msg_1", timestamp: timestamp, body: body)
            #expect(failure(timestamp: String(timestamp), signature: signature)?.info.contains("5 minutes") == true)
        }
    }

    @Test func missingHeadersFail() {
        #expect(failure(id: nil, signature: "v1,abc")?.status == 401)
        #expect(failure(signature: nil)?.status == 401)
        #expect(failure(timestamp: "yesterday", signature: "v1,abc")?.status == 401)
        let signedWithSign = webhooks.signature(id: "msg_1", timestamp: 1_795_600_800, body: body)
        for timestamp in ["+1795600800", " 1795600800", "1795600800.0", "", "99999999999999999999999"] {
            #expect(failure(timestamp: timestamp, signature: signedWithSign)?.info.contains("Unix seconds") == true, "\(timestamp)")
        }
    }

    @Test func anyOfSeveralSignaturesAndSecretsMatches() {
        let old = StandardWebhooks(secrets: ["whsec_" + Data(repeating: 1, count: 24).base64EncodedString()])
        let rotating = StandardWebhooks(secrets: [
            "whsec_" + Data(repeating: 7, count: 24).base64EncodedString(),
            "whsec_" + Data(repeating: 1, count: 24).base64EncodedString(),
        ])
        let signedWithOld = old.signature(id: "msg_1", timestamp: 1_795_600_800, body: body)
        try? rotating.verify(id: "msg_1", timestamp: "1795600800", signature: "v1,bm9wZQ== " + signedWithOld, body: body, now: now)
        #expect(throws: Never.self) {
            try rotating.verify(id: "msg_1", timestamp: "1795600800", signature: "v1,bm9wZQ== " + signedWithOld, body: body, now: now)
        }
    }

    @Test func unconfiguredRefusesEverything() {
        #expect(!StandardWebhooks(secrets: []).isConfigured)
        #expect(throws: RelayError.self) {
            try StandardWebhooks(secrets: []).verify(id: "a", timestamp: "1", signature: "v1,x", body: Data(), now: Date())
        }
    }
}
