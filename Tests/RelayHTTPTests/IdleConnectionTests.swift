import Foundation
import NIOCore
import NIOPosix
import RelayCore
import Testing
import TestSupport

/// Connections that hold a file descriptor without a request in progress are closed after
/// `Configuration.idleTimeout`; a request being answered, a long poll included, is not cut.
@Suite struct IdleConnectionTests {
    /// Writes `bytes` as soon as the connection is up, on its event loop: written by the test's task after
    /// `connect` returned, they once came after the relay had already given up on a silent connection (a
    /// loaded machine).
    final class SendOnConnect: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let bytes: [UInt8]

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes)), promise: nil)
            context.fireChannelActive()
        }
    }

    /// A raw TCP connection to the relay, to send what no HTTP client would (half a request head, nothing).
    func connect(_ base: String, sending text: String? = nil) async throws -> any Channel {
        let port = try #require(URLComponents(string: base)?.port)
        return try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let text { try channel.pipeline.syncOperations.addHandler(SendOnConnect(Array(text.utf8))) }
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
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
        let halfHead = try await connect(relay, sending: "GET /healthz HTTP/1.1\r\nHost: relay\r\n")
        try await expectClosedByRelay(halfHead)

        // A kept-alive connection after its answer.
        let keptAlive = try await connect(relay, sending: "GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\n")
        try await expectClosedByRelay(keptAlive)
    }

    /// The request deadline bounds the arrival of a request, not its answer (`SlowRequestTests`).
    @Test func aLongPollOutlastsTheIdleTimeoutAndTheRequestDeadline() async throws {
        let env = try await TestEnvironment.shared.value
        let relay = try await env.startSecondRelay {
            $0.idleTimeout = .milliseconds(300)
            $0.requestTimeout = .seconds(1)
        }
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
