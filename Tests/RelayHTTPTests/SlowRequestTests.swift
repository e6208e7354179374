import Foundation
import NIOCore
import NIOPosix
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
        let log = LogRecorder()
        let relay = try await env.startSecondRelay(logger: log.logger) { $0.requestTimeout = .seconds(1) }
        let identity = try await env.connectIdentity()
        let text = try await RawExchange.exchange(trickledPublish(to: identity, authorization: env.authorization), with: relay)
        let reply = try RawExchange.firstResponse(text)
        #expect(reply.status == 408, "\(text.prefix(400))")
        #expect(reply.rest.isEmpty, "something followed the 408: \(reply.rest.prefix(300))")
        #expect(reply.head.lowercased().contains("connection: close"))
        let status = reply.body["response"]?["request"]?["status"]
        #expect(status?["code"] == 408)
        #expect(status?["info"]?.stringValue?.contains("did not arrive within 1 s of its head") == true, "\(reply.body)")
        let path = "/push/identities/\(identity.token)/twitter/post.json"
        #expect(reply.body["response"]?["request"]?["resource"]?.stringValue == path)
        let logged = await log.first { $0.message == "request body deadline" && $0.metadata["path"] == path }
        #expect(logged?.level == .notice)
        #expect(await log.first { $0.message == "request" && $0.metadata["path"] == path && $0.metadata["status"] == "408" } != nil)
        try await expectNoPublish(of: identity, env: env)
    }

    /// A body cut at the deadline is not taken for a whole one, even when what came is a whole publish (the
    /// rest announced by its `Content-Length` never coming): nothing is stored, as the 408 says. It was: the
    /// connection's end reached the route as the body's end, and the publish was queued.
    @Test func aBodyCutAtTheDeadlineIsNotTakenForAWholeOne() async throws {
        let env = try await TestEnvironment.shared.value
        let log = LogRecorder()
        let relay = try await env.startSecondRelay(logger: log.logger) { $0.requestTimeout = .seconds(1) }
        let identity = try await env.connectIdentity()
        let publish = #"{"request":{"push":{"post":{"message":"cut at the deadline"}}}}"#
        let head = "POST /push/identities/\(identity.token)/twitter/post.json HTTP/1.1\r\nHost: relay\r\nAuthorization: \(env.authorization)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(publish.utf8.count + 100)\r\n\r\n"
        let text = try await RawExchange.exchange(Array((head + publish).utf8), with: relay)
        #expect(try RawExchange.firstResponse(text).status == 408, "\(text.prefix(400))")
        // The route has ended (it logs every request it answers, on a closed connection too), and stored nothing.
        let path = "/push/identities/\(identity.token)/twitter/post.json"
        let ended = await log.first { $0.message == "request" && $0.metadata["path"] == path && $0.metadata["method"] == "POST" }
        #expect(ended != nil, "the route did not end")
        try await expectNoPublish(of: identity, env: env)
    }

    /// The same when the client closes the connection before its body's end: nothing is stored.
    @Test func aBodyCutByItsClientIsNotTakenForAWholeOne() async throws {
        let env = try await TestEnvironment.shared.value
        let log = LogRecorder()
        let relay = try await env.startSecondRelay(logger: log.logger) { _ in }
        let identity = try await env.connectIdentity()
        let publish = #"{"request":{"push":{"post":{"message":"cut by its client"}}}}"#
        let path = "/push/identities/\(identity.token)/twitter/post.json"
        let head = "POST \(path) HTTP/1.1\r\nHost: relay\r\nAuthorization: \(env.authorization)\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(publish.utf8.count + 100)\r\n\r\n"
        let port = try #require(URLComponents(string: relay)?.port)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
        try await channel.writeAndFlush(ByteBuffer(string: head + publish)).get()
        // Closed with nothing unread: the relay reads what was sent, then the end (the route's body fails).
        try await channel.close()
        let ended = await log.first { $0.message == "request" && $0.metadata["path"] == path && $0.metadata["method"] == "POST" }
        #expect(ended != nil, "the route did not end")
        try await expectNoPublish(of: identity, env: env)
    }

    /// No publish of `identity` was stored (what a request ended by the deadline must leave).
    func expectNoPublish(of identity: TestIdentity, env: TestEnvironment, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let token = try #require(UUID(uuidString: identity.token))
        let events = try await env.store.client.query(
            "SELECT count(*) FROM events WHERE identity_token = \(token) AND kind = 'publish.requested'")
        for try await count in events.decode(Int.self) { #expect(count == 0, sourceLocation: sourceLocation) }
    }

    /// A route that answered before reading the body (no credentials: 401) no longer waits for the trickle:
    /// the connection is closed at the deadline. The deadline is 5 s here: the 401 must have begun before it,
    /// and with 1 s a loaded machine (two busy loops beside a full run) once answered it later, so the 408
    /// came first, as it should then.
    @Test func anAnswerGivenBeforeTheBodyEndsIsNotFollowedByA408() async throws {
        let env = try await TestEnvironment.shared.value
        let relay = try await env.startSecondRelay { $0.requestTimeout = .seconds(5) }
        let identity = try await env.connectIdentity()
        let text = try await RawExchange.exchange(trickledPublish(to: identity, authorization: nil), with: relay)
        let reply = try RawExchange.firstResponse(text)
        #expect(reply.status == 401, "\(text.prefix(400))")
        #expect(!reply.rest.contains("HTTP/1.1"), "a second answer followed: \(reply.rest.prefix(200))")
    }
}
