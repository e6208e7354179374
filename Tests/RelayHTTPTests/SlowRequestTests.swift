import Foundation
import RelayCore
import Testing
import TestSupport

/// A request whose body trickles is ended at `Configuration.requestTimeout` after its head (the idle timeout
/// restarts with every byte). A request that arrived whole is answered however long its answer takes
/// (`IdleConnectionTests.aLongPollOutlastsTheIdleTimeoutAndTheRequestDeadline`).
@Suite struct SlowRequestTests {
    /// The head of a publish announcing 100 bytes, and the first 10 of them: the rest never comes.
    func trickledPublish(to identity: TestIdentity, authorization: String?) -> [UInt8] {
        let fields = ["Host: relay", "Content-Type: application/json", "Content-Length: 100"] + (authorization.map { ["Authorization: \($0)"] } ?? [])
        let head = "POST /push/identities/\(identity.token)/twitter/post.json HTTP/1.1\r\n" + fields.joined(separator: "\r\n") + "\r\n\r\n"
        return Array((head + #"{"request""#).utf8)
    }

    @Test func aTrickledBodyIs408AtTheDeadlineAndNothingIsStored() async throws {
        let env = try await TestEnvironment.shared.value
        let relay = try await env.startSecondRelay { $0.requestTimeout = .seconds(1) }
        let identity = try await env.connectIdentity()
        let text = try await RawExchange.exchange(trickledPublish(to: identity, authorization: env.authorization), with: relay)
        let reply = try RawExchange.firstResponse(text)
        #expect(reply.status == 408, "\(text.prefix(400))")
        #expect(reply.head.lowercased().contains("connection: close"))
        let status = reply.body["response"]?["request"]?["status"]
        #expect(status?["code"] == 408)
        #expect(status?["info"]?.stringValue?.contains("did not arrive within 1 s of its head") == true, "\(reply.body)")
        #expect(reply.body["response"]?["request"]?["resource"]?.stringValue == "/push/identities/\(identity.token)/twitter/post.json")
        let token = try #require(UUID(uuidString: identity.token))
        let events = try await env.store.client.query(
            "SELECT count(*) FROM events WHERE identity_token = \(token) AND kind = 'publish.requested'")
        for try await count in events.decode(Int.self) { #expect(count == 0) }
    }

    /// A route that answered before reading the body (no credentials: 401) no longer waits for the trickle:
    /// the connection is closed at the deadline.
    @Test func anAnswerGivenBeforeTheBodyEndsIsNotFollowedByA408() async throws {
        let env = try await TestEnvironment.shared.value
        let relay = try await env.startSecondRelay { $0.requestTimeout = .seconds(1) }
        let identity = try await env.connectIdentity()
        let text = try await RawExchange.exchange(trickledPublish(to: identity, authorization: nil), with: relay)
        let reply = try RawExchange.firstResponse(text)
        #expect(reply.status == 401, "\(text.prefix(400))")
        #expect(!reply.rest.contains("HTTP/1.1"), "a second answer followed: \(reply.rest.prefix(200))")
    }
}
