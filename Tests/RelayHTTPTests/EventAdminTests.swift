import Foundation
import PostgresNIO
import ProviderSandbox
import RelayCore
import Testing
import TestSupport

/// Cancelling a publish before it starts, and retrying one that failed or ended indeterminate.
@Suite struct EventAdminTests {
    @Test func aScheduledPublishCanBeCancelledUntilItStarts() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let at = RFC3339.format(Date().addingTimeInterval(3600))
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"schedule":{"at":"\#(at)"},"push":{"post":{"message":"never"}}}}"#)
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        #expect(try await env.send(.GET, "/push/events/\(eventID).json").data?["state"] == "scheduled")

        let cancelled = try await env.send(.DELETE, "/push/events/\(eventID).json")
        #expect(cancelled.status == 200)
        #expect(cancelled.data?["state"] == "cancelled")
        #expect(cancelled.data?["finished_at"]?.stringValue != nil)
        let again = try await env.send(.DELETE, "/push/events/\(eventID).json")
        #expect(again.status == 409)
        #expect(again.info?.contains("is cancelled") == true)
        #expect(try await env.send(.DELETE, "/push/events/\(UUID().uuidString).json").status == 404)
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).isEmpty)
    }

    @Test func aFinishedPublishCannotBeCancelled() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"done \#(UUID())"}}}}"#)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let refused = try await env.send(.DELETE, "/push/events/\(eventID).json")
        #expect(refused.status == 409)
        #expect(refused.flag == "error")
        #expect(refused.info?.contains("succeeded") == true)
    }

    @Test func anIndeterminatePublishIsRetriedOnlyWhenAskedAndOnlyOnce() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, action: .dropConnection))
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"lost answer"}}}}"#)
        #expect(reply.status == 502)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        #expect(try await env.finalEvent(eventID)["state"] == "indeterminate")

        let retried = try await env.send(.POST, "/push/events/\(eventID)/retry.json")
        #expect(retried.status == 202, "\(retried.text)")
        #expect(retried.flag == "queued")
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        #expect(event["attempts"]?.arrayValue?.map { $0["outcome"] } == ["answer_lost", "succeeded"])
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).count == 2)

        let notAgain = try await env.send(.POST, "/push/events/\(eventID)/retry.json")
        #expect(notAgain.status == 409)
        #expect(try await env.send(.GET, "/push/events/\(eventID)/retry.json").status == 405)
    }

    @Test func aRateLimitPausesTheIdentityOnThatProviderOnly() async throws {
        let env = try await TestEnvironment.shared.value
        let limited = try await env.connectIdentity()
        env.sandbox.faults.add(
            SandboxFault(
                provider: "x", pathContains: "/2/tweets", token: limited.accessToken,
                action: .respond(status: 429, body: ["title": "Too Many Requests", "detail": "Too Many Requests"], headers: [("Retry-After", "3")])))
        let first = try await env.push(
            limited, "twitter/post", #"{"request":{"push":{"post":{"message":"first"}}}}"#, headers: [("Prefer", "respond-async")])
        let firstID = try #require(first.data?["event_id"]?.stringValue)
        // Wait until the 429 is recorded: from then on the identity is paused on X.
        _ = try await env.eventWithAttempts(firstID)
        let second = try await env.push(
            limited, "twitter/post", #"{"request":{"push":{"post":{"message":"second"}}}}"#, headers: [("Prefer", "respond-async")])
        let secondID = try #require(second.data?["event_id"]?.stringValue)

        // Another identity is not held back.
        let other = try await env.connectIdentity()
        #expect(try await env.push(other, "twitter/post", #"{"request":{"push":{"post":{"message":"not paused"}}}}"#).status == 200)

        #expect(try await env.finalEvent(firstID)["state"] == "succeeded")
        #expect(try await env.finalEvent(secondID)["state"] == "succeeded")
        let sent = env.sandbox.recorder.requests(provider: "x", token: limited.accessToken)
        #expect(sent.count == 3)
        let throttledAt = try #require(sent.first?.receivedAt)
        // Neither publish of the paused identity reached X before the reset.
        #expect(sent.dropFirst().allSatisfy { $0.receivedAt.timeIntervalSince(throttledAt) >= 2.9 })
        let pauses = try await env.store.client.query(
            "SELECT provider FROM provider_pauses WHERE identity_token = \(UUID(uuidString: limited.token)!)")
        for try await provider in pauses.decode(String.self) { #expect(provider == "twitter") }
    }
}
