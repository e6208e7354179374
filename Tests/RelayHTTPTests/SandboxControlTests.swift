import Foundation
import ProviderSandbox
import RelayCore
import Testing
import TestSupport

/// The sandbox's control routes (`/_sandbox/…`), which users' own integration tests drive over HTTP
/// against `pushrelay serve --sandbox`.
@Suite struct SandboxControlTests {
    @Test func aHeldAnswerWaitsForTheReleaseThenPublishes() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let fault = #"{"provider":"x","path":"/2/tweets","token":"\#(identity.accessToken)","action":"hold"}"#
        let scheduled = try await env.send(.POST, "/_sandbox/faults", body: fault, authenticated: false, base: env.sandbox.origin)
        #expect(scheduled.status == 201)

        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"held"}}}}"#, headers: [("Prefer", "respond-async")])
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        #expect(await env.sandbox.recorder.waitFor(count: 1, where: { $0.bearerToken == identity.accessToken }))
        let pending = try await env.send(.GET, "/push/events/\(eventID).json")
        #expect(pending.data?["state"] == "running", "the provider has not answered: \(pending.text)")

        // Only this test's answers: the tests running beside it keep theirs held.
        let released = try await env.send(
            .POST, "/_sandbox/faults/release", body: #"{"token":"\#(identity.accessToken)"}"#, authenticated: false,
            base: env.sandbox.origin)
        #expect(released.status == 200)
        #expect(released.json["released"] == 1, "\(released.text)")
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        #expect(env.sandbox.recorder.requests(token: identity.accessToken).count == 1)
    }

    @Test func aReleaseWithAMalformedBodyIsRefused() async throws {
        let env = try await TestEnvironment.shared.value
        let reply = try await env.send(
            .POST, "/_sandbox/faults/release", body: #"{"token":42}"#, authenticated: false, base: env.sandbox.origin)
        #expect(reply.status == 400)
        #expect(reply.json["error"]?.stringValue?.contains("token") == true)
    }

    @Test func anUnknownFaultActionIsRefused() async throws {
        let env = try await TestEnvironment.shared.value
        let reply = try await env.send(
            .POST, "/_sandbox/faults", body: #"{"provider":"x","action":"explode"}"#, authenticated: false, base: env.sandbox.origin)
        #expect(reply.status == 400)
        #expect(reply.json["error"]?.stringValue?.contains("respond, expired_token, drop, delay or hold") == true)
    }
}
