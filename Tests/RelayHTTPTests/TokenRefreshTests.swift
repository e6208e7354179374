import Foundation
import PostgresNIO
import ProviderSandbox
import RelayCore
import RelayStore
import Testing
import TestSupport

/// An expired or rejected token is refreshed once through the provider's OAuth endpoint (DESIGN §5);
/// a refused refresh leaves the identity `needs_reconnect` and its pushes fail fast.
@Suite struct TokenRefreshTests {
    @Test func rejectedTokenIsRefreshedStoredAndTheCallMadeAgain() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, action: .expiredToken))
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"after a refresh"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")

        let refreshToken = "refresh-\(identity.accessToken)"
        let renewed = refreshToken + "~access"
        let refresh = env.sandbox.recorder.requests(provider: "x", token: refreshToken)
        #expect(refresh.map(\.path) == ["/2/oauth2/token"])
        #expect(refresh.first?.body?["grant_type"] == "refresh_token")
        #expect(refresh.first?.body?["client_id"] == "sandbox-client")
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).count == 1)
        #expect(env.sandbox.recorder.requests(provider: "x", token: renewed).map(\.path) == ["/2/tweets"])

        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let attempts = try #require(try await env.finalEvent(eventID)["attempts"]?.arrayValue)
        #expect(attempts.map { $0["step"] } == ["tweets.create", "oauth.refresh", "tweets.create"])
        #expect(attempts.map { $0["outcome"] } == ["token_rejected", "succeeded", "succeeded"])
        #expect(attempts[1]["response"]?.stringValue?.contains("~access") == false, "the token answer must not be stored")

        // The new tokens are stored (encrypted) and used from now on, without another refresh.
        let next = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"with the new token"}}}}"#)
        #expect(next.status == 200)
        #expect(env.sandbox.recorder.requests(provider: "x", token: renewed).count == 2)
        #expect(env.sandbox.recorder.requests(provider: "x", token: refreshToken).count == 1)
        let stored = try await env.store.client.query(
            "SELECT credentials FROM identities WHERE identity_token = \(UUID(uuidString: identity.token)!)")
        for try await ciphertext in stored.decode(Data.self) {
            #expect(!String(decoding: ciphertext, as: UTF8.self).contains(renewed))
        }
    }

    @Test func expiredTokenIsRefreshedBeforeTheCall() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(expiresAt: "2020-01-01T00:00:00Z")
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"expired already"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).isEmpty)
        #expect(env.sandbox.recorder.requests(provider: "x", token: "refresh-\(identity.accessToken)").count == 1)
        let shown = try await env.send(.GET, "/identities/\(identity.token).json")
        let expiry = try #require(shown.data?["token_expires_at"]?.stringValue.flatMap(RFC3339.parse))
        #expect(expiry > Date())
    }

    @Test func refusedRefreshMarksTheIdentityAndLaterPushesFailFast() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, action: .expiredToken))
        env.sandbox.faults.add(
            SandboxFault(
                provider: "x", pathContains: "/2/oauth2/token", token: "refresh-\(identity.accessToken)",
                action: .respond(
                    status: 400, body: ["error": "invalid_request", "error_description": "Value passed for the token was invalid."],
                    headers: [])))
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"expired"}}}}"#)
        #expect(reply.status == 403)
        #expect(reply.info?.contains("reconnected") == true)
        let shown = try await env.send(.GET, "/identities/\(identity.token).json")
        #expect(shown.data?["state"] == "needs_reconnect")

        let next = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"again"}}}}"#)
        #expect(next.status == 403)
        #expect(next.info?.contains("must be reconnected") == true)
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).count == 1)

        // A new identity-connected webhook for the same account renews it.
        _ = try await env.reconnect(identity)
        let renewed = try await env.send(.GET, "/identities/\(identity.token).json")
        #expect(renewed.data?["state"] == "connected")
    }

    @Test func withoutARefreshTokenTheIdentityNeedsReconnect() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(withRefreshToken: false)
        env.sandbox.faults.add(SandboxFault(provider: "x", token: identity.accessToken, action: .expiredToken))
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"no refresh"}}}}"#)
        #expect(reply.status == 403)
        #expect(reply.info?.contains("no refresh token") == true)
        #expect(try await env.send(.GET, "/identities/\(identity.token).json").data?["state"] == "needs_reconnect")
    }

    /// A user who reconnects while the worker refreshes the old token keeps the new connection's tokens:
    /// the refreshed ones serve the call in flight and are not stored over the new ones.
    @Test func aReconnectDuringARefreshKeepsTheNewConnectionsTokens() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(expiresAt: "2020-01-01T00:00:00Z")
        let refreshToken = "refresh-\(identity.accessToken)"
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/oauth2/token", token: refreshToken, action: .hold))
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"refreshed while reconnecting"}}}}"#,
            headers: [("Prefer", "respond-async")])
        #expect(reply.status == 202, "\(reply.text)")
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        #expect(await env.sandbox.recorder.waitFor(count: 1) { $0.bearerToken == refreshToken })

        let reconnected = try await env.reconnect(identity)
        #expect(env.sandbox.faults.releaseHeld(token: refreshToken) == 1)
        #expect(try await env.finalEvent(eventID)["state"] == "succeeded")
        #expect(env.sandbox.recorder.requests(provider: "x", token: refreshToken + "~access").map(\.path) == ["/2/tweets"])

        // The next publish uses the tokens of the reconnection, without a refresh.
        let next = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"with the new connection"}}}}"#)
        #expect(next.status == 200, "\(next.text)")
        #expect(env.sandbox.recorder.requests(provider: "x", token: reconnected.accessToken).map(\.path) == ["/2/tweets"])
        #expect(env.sandbox.recorder.requests(provider: "x", token: refreshToken + "~access").count == 1)
        let shown = try await env.send(.GET, "/identities/\(identity.token).json")
        #expect(shown.data?["state"] == "connected")
        #expect(shown.data?["token_expires_at"] == .null)
    }

    /// A token refused after a refresh that was not stored (the user reconnected meanwhile) fails its own
    /// publish, but does not mark the new connection `needs_reconnect`.
    @Test func aRejectionOfTheOldTokensDoesNotMarkANewConnection() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let refreshToken = "refresh-\(identity.accessToken)"
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, action: .expiredToken))
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/oauth2/token", token: refreshToken, action: .hold))
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", token: refreshToken + "~access", action: .expiredToken))
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"old tokens"}}}}"#, headers: [("Prefer", "respond-async")])
        #expect(reply.status == 202, "\(reply.text)")
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        #expect(await env.sandbox.recorder.waitFor(count: 1) { $0.bearerToken == refreshToken })

        let reconnected = try await env.reconnect(identity)
        #expect(env.sandbox.faults.releaseHeld(token: refreshToken) == 1)
        let final = try await env.finalEvent(eventID)
        #expect(final["state"] == "failed")
        #expect(final["attempts"]?.arrayValue?.map { $0["outcome"] } == ["token_rejected", "succeeded", "token_rejected"])

        let shown = try await env.send(.GET, "/identities/\(identity.token).json")
        #expect(shown.data?["state"] == "connected")
        let next = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"new tokens"}}}}"#)
        #expect(next.status == 200, "\(next.text)")
        #expect(env.sandbox.recorder.requests(provider: "x", token: reconnected.accessToken).map(\.path) == ["/2/tweets"])
    }
}
