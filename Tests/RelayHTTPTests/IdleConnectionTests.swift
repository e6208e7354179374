import Foundation
import NIOCore
import NIOPosix
import RelayCore
import Testing
import TestSupport

/// Connections that hold a file descriptor without a request in progress are closed after
/// `Configuration.idleTimeout`; a request being answered, a long poll included, is not cut.
@Suite struct IdleConnectionTests {
    /// A raw TCP connection to the relay, to send what no HTTP client would (half a request head, nothing).
    func connect(_ base: String) async throws -> any Channel {
        let port = try #require(URLComponents(string: base)?.port)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: port).get()
    }

    /// Waits until the relay closes `channel`; fails the test after `seconds` (a deadline, not a synchronisation).
    func expectClosedByRelay(_ channel: any Channel, within seconds: Int = 20, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let closed = try await channel.closedByPeer(within: seconds)
        #expect(closed, "the relay kept the connection open for \(seconds) s", sourceLocation: sourceLocation)
    }

    @Test func connectionsWithoutARequestAreClosed() async throws {
        let env = try await TestEnvironment.shared.value
        // Long enough that a loaded machine writes the half head before the relay gives up on the connection.
        let relay = try await env.startSecondRelay { $0.idleTimeout = .seconds(2) }

        // Connected, nothing sent.
        let silent = try await connect(relay)
        try await expectClosedByRelay(silent)

        // A request head that never ends.
        let halfHead = try await connect(relay)
        try await halfHead.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: relay\r\n")).get()
        try await expectClosedByRelay(halfHead)

        // A kept-alive connection after its answer.
        let keptAlive = try await connect(relay)
        try await keptAlive.writeAndFlush(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")).get()
        try await expectClosedByRelay(keptAlive)
    }

    @Test func aLongPollOutlastsTheIdleTimeout() async throws {
        let env = try await TestEnvironment.shared.value
        let relay = try await env.startSecondRelay { $0.idleTimeout = .milliseconds(300) }
        let identity = try await env.connectIdentity()
        let scheduled = try await env.push(
            identity, "twitter/post", #"{"request":{"schedule":{"at":"2099-01-01T00:00:00Z"},"push":{"post":{"message":"later"}}}}"#)
        #expect(scheduled.status == 202, "\(scheduled.text)")
        let eventID = try #require(scheduled.json["response"]?["result"]?["data"]?["event_id"]?.stringValue)

        let poll = try await env.send(.GET, "/push/events/\(eventID).json?wait=2", base: relay)
        #expect(poll.status == 200, "\(poll.text)")
        #expect(poll.json["response"]?["result"]?["data"]?["state"]?.stringValue == "scheduled")
    }
}
