import Foundation
import PostgresNIO
import ProviderSandbox
import RelayCore
import Testing
import TestSupport

/// What the engine does when the provider fails: retry what provably did not publish, never what might have.
@Suite struct DeliveryTests {
    @Test func serverErrorIsRetriedAndSucceeds() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        env.sandbox.faults.add(
            SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, times: 1,
                         action: .respond(status: 503, body: ["title": "Service Unavailable", "detail": "Over capacity"], headers: [])))
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"retry me"}}}}"#, headers: [("Prefer", "respond-async")])
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        let attempts = try #require(event["attempts"]?.arrayValue)
        #expect(attempts.map { $0["outcome"] } == ["retryable", "succeeded"])
        #expect(attempts.map { $0["try"] } == [1, 2])
        #expect(env.sandbox.recorder.requests(token: identity.accessToken).count == 2)
    }

    @Test func lostAnswerIsIndeterminateAndNeverRetried() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, action: .dropConnection))
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"did it post?"}}}}"#)
        #expect(reply.status == 502)
        #expect(reply.info?.contains("may have been published") == true)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "indeterminate")
        #expect(event["attempts"]?.arrayValue?.first?["outcome"] == "answer_lost")
        #expect(env.sandbox.recorder.requests(token: identity.accessToken).count == 1)
    }

    @Test func rateLimitWaitsForTheProvidersResetThenPublishes() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        env.sandbox.faults.add(
            SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken,
                         action: .respond(status: 429, body: ["title": "Too Many Requests", "detail": "Too Many Requests"], headers: [("Retry-After", "1")])))
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"throttled"}}}}"#, headers: [("Prefer", "respond-async")])
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        let requests = env.sandbox.recorder.requests(token: identity.accessToken)
        #expect(requests.count == 2)
        #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) >= 0.9)
    }

    @Test func slowProviderTurnsASyncCallInto202AndTheOutcomeArrivesLater() async throws {
        let env = try await TestEnvironment.shared.value
        let relay = try await env.startSecondRelay { $0.syncTimeout = .milliseconds(300) }
        let identity = try await env.connectIdentity()
        // The provider answers only once the relay has given up waiting and answered 202.
        env.sandbox.faults.add(SandboxFault(provider: "x", token: identity.accessToken, action: .hold))
        let reply = try await env.send(
            .POST, "/push/identities/\(identity.token)/twitter/post.json", body: #"{"request":{"push":{"post":{"message":"slow"}}}}"#,
            base: relay)
        #expect(reply.status == 202)
        #expect(reply.flag == "queued")
        #expect(await env.sandbox.recorder.waitFor(count: 1, where: { $0.bearerToken == identity.accessToken }))
        env.sandbox.faults.releaseHeld(token: identity.accessToken)
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
    }
}
