import Foundation
import PostgresNIO
import RelayCore
import Testing
import TestSupport

/// Inbound webhooks: Standard Webhooks signatures, deduplication, identities, publish-requested.
@Suite struct WebhookTests {
    func connectBody(token: String, accessToken: String, userID: String = String(UInt64.random(in: 1...UInt64.max))) -> String {
        """
        {"type":"identity.connected","data":{"identity_token":"\(token)","provider":"twitter","provider_user_id":"\(userID)",\
        "display_name":"Ada","credentials":{"access_token":"\(accessToken)","refresh_token":"secret-refresh","expires_at":"2030-01-01T00:00:00Z","scope":"tweet.write"},\
        "accounts":[{"kind":"page","id":"42","name":"Ada's page","access_token":"page-token-\(accessToken)"}]}}
        """
    }

    @Test func signatureGoodBadStaleAndMissing() async throws {
        let env = try await TestEnvironment.shared.value
        let token = UUID().uuidString.lowercased()
        let body = connectBody(token: token, accessToken: "tok-\(token)")
        let bad = try await env.webhook("identity-connected", body: body, signature: "v1,\(Data(repeating: 1, count: 32).base64EncodedString())")
        #expect(bad.status == 401)
        #expect(bad.flag == "error")
        #expect(bad.info?.contains("does not match") == true)
        let stale = try await env.webhook("identity-connected", body: body, timestamp: Int(Date().timeIntervalSince1970) - 310)
        #expect(stale.status == 401)
        #expect(stale.info?.contains("5 minutes") == true)
        let future = try await env.webhook("identity-connected", body: body, timestamp: Int(Date().timeIntervalSince1970) + 310)
        #expect(future.status == 401)
        let unsigned = try await env.send(.POST, "/webhooks/identity-connected", body: body, authenticated: false)
        #expect(unsigned.status == 401)
        #expect(unsigned.info?.contains("webhook-signature") == true)
        #expect(try await env.send(.GET, "/identities/\(token).json").status == 404)

        let good = try await env.webhook("identity-connected", body: body)
        #expect(good.status == 202)
        #expect(good.flag == "success")
        #expect(good.data?["identity_token"]?.stringValue == token)
        #expect(good.data?["state"] == "connected")
    }

    @Test func replayedWebhookIDChangesNothing() async throws {
        let env = try await TestEnvironment.shared.value
        let token = UUID().uuidString.lowercased()
        let id = "msg_\(UUID().uuidString)"
        let first = try await env.webhook("identity-connected", body: connectBody(token: token, accessToken: "first-\(token)"), id: id)
        let again = try await env.webhook("identity-connected", body: connectBody(token: token, accessToken: "second-\(token)"), id: id)
        #expect(first.status == 202)
        #expect(again.status == 202)
        #expect(first.data?["event_id"] == again.data?["event_id"])
        #expect(again.info?.contains("already processed") == true)
        let rows = try await env.store.client.query("SELECT count(*) FROM events WHERE idempotency_key = \("webhook:" + id)")
        for try await count in rows.decode(Int.self) { #expect(count == 1) }
        // The first token is still the one used.
        let identity = TestIdentity(token: token, accessToken: "first-\(token)")
        #expect(try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"replay"}}}}"#).status == 200)
        #expect(env.sandbox.recorder.requests(token: "first-\(token)").count == 1)
    }

    /// Webhooks that connect one new token to different accounts at the same moment: one wins, the others are
    /// told the token is taken (some were 500s: both found the token free, the second insert failed on its key).
    @Test func oneTokenConnectedTwiceAtOnceIsAConflictNotAnError() async throws {
        let env = try await TestEnvironment.shared.value
        let token = UUID().uuidString.lowercased()
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<12 {
                group.addTask {
                    let body = #"{"type":"identity.connected","data":{"identity_token":"\#(token)","provider":"twitter","#
                        + #""provider_user_id":"racer-\#(index)-\#(token)","credentials":{"access_token":"race-\#(index)-\#(token)"}}}"#
                    return try await env.webhook("identity-connected", body: body).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 202 }.count == 1, "\(statuses)")
        #expect(statuses.filter { $0 == 409 }.count == 11, "\(statuses)")
    }

    @Test func credentialsAreEncryptedAndNeverShown() async throws {
        let env = try await TestEnvironment.shared.value
        let token = UUID().uuidString.lowercased()
        let accessToken = "very-secret-\(token)"
        #expect(try await env.webhook("identity-connected", body: connectBody(token: token, accessToken: accessToken)).status == 202)

        let shown = try await env.send(.GET, "/identities/\(token).json")
        #expect(shown.status == 200)
        #expect(shown.data?["provider"] == "twitter")
        #expect(shown.data?["state"] == "connected")
        #expect(shown.data?["accounts"]?.arrayValue?.first?["id"] == "42")
        #expect(shown.data?["accounts"]?.arrayValue?.first?["has_access_token"] == true)
        #expect(!shown.text.contains(accessToken))
        #expect(!shown.text.contains("secret-refresh"))

        // Nothing in the database holds a token in clear: not the identity, not the accounts, not the raw event.
        let rows = try await env.store.client.query(
            """
            SELECT (SELECT count(*) FROM identities WHERE identity_token = \(UUID(uuidString: token)!)
                      AND position(\(accessToken)::bytea IN credentials) = 0 AND credentials_key_id IS NOT NULL),
                   (SELECT count(*) FROM identity_accounts WHERE access_token IS NOT NULL
                      AND position(\("page-token-" + accessToken)::bytea IN access_token) > 0),
                   (SELECT count(*) FROM events WHERE body::text LIKE '%' || \(accessToken) || '%')
            """)
        for try await (encrypted, clearAccounts, clearEvents) in rows.decode((Int, Int, Int).self) {
            #expect(encrypted == 1)
            #expect(clearAccounts == 0)
            #expect(clearEvents == 0)
        }
    }

    @Test func disconnectErasesCredentialsAndLaterPushesGet404() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let body = #"{"type":"identity.disconnected","data":{"identity_token":"\#(identity.token)"}}"#
        let reply = try await env.webhook("identity-disconnected", body: body)
        #expect(reply.status == 202)
        #expect(reply.data?["state"] == "disconnected")
        #expect(try await env.send(.GET, "/identities/\(identity.token).json").status == 404)
        let push = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"gone"}}}}"#)
        #expect(push.status == 404)
        #expect(push.flag == "error")
        let rows = try await env.store.client.query(
            "SELECT state, credentials IS NULL FROM identities WHERE identity_token = \(UUID(uuidString: identity.token)!)")
        for try await (state, erased) in rows.decode((String, Bool).self) {
            #expect(state == "disconnected")
            #expect(erased)
        }
        let unknown = try await env.webhook("identity-disconnected", body: #"{"type":"identity.disconnected","data":{"identity_token":"\#(UUID().uuidString)"}}"#)
        #expect(unknown.status == 404)
    }

    @Test func publishRequestedIsQueuedAndPublished() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let id = "msg_\(UUID().uuidString)"
        let body = #"{"type":"publish.requested","data":{"identity_token":"\#(identity.token)","path":"twitter/post","request":{"push":{"post":{"message":"from a webhook"}}}}}"#
        let reply = try await env.webhook("publish-requested", body: body, id: id)
        #expect(reply.status == 202)
        #expect(reply.flag == "queued")
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        let again = try await env.webhook("publish-requested", body: body, id: id)
        #expect(again.status == 200)
        #expect(again.data?["post_id"] == event["result"]?["post_id"])
        #expect(env.sandbox.recorder.requests(token: identity.accessToken).count == 1)

        let invalid = try await env.webhook(
            "publish-requested",
            body: #"{"type":"publish.requested","data":{"identity_token":"\#(identity.token)","path":"twitter/post","request":{"push":{"post":{}}}}}"#)
        #expect(invalid.status == 400)
        #expect(invalid.info?.contains("request.push.post.message") == true)
    }
}
