import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RelayCore
import Testing

/// One raw TCP exchange with a relay: to send what no HTTP client would (a malformed head, a body that trickles)
/// and read what comes back until the relay closes the connection.
public enum RawExchange {
    /// Everything the relay sends on one raw connection, until it closes it.
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = NIOLockedValueBox(ByteBuffer())
        /// Completed when the first bytes come back.
        let answered: EventLoopPromise<Void>

        init(answered: EventLoopPromise<Void>) { self.answered = answered }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.withLockedValue { $0.writeBuffer(&bytes) }
            answered.succeed()
        }

        func channelInactive(context: ChannelHandlerContext) {
            answered.succeed()
        }
    }

    /// Sends `bytes` on a new connection and returns what came back before the relay closed it. When `then` is
    /// given, it is sent once the first bytes of an answer have come back.
    public static func exchange(
        _ bytes: [UInt8], then more: [UInt8]? = nil, with base: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> String {
        let port = try #require(URLComponents(string: base)?.port)
        let group = MultiThreadedEventLoopGroup.singleton
        let collector = Collector(answered: group.any().makePromise())
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        // The relay may close the connection before all of a too-large head is written.
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        if let more {
            try await collector.answered.futureResult.get()
            try await channel.writeAndFlush(ByteBuffer(bytes: more)).get()
        }
        #expect(try await channel.closedByPeer(), "the relay kept the connection open", sourceLocation: sourceLocation)
        return collector.received.withLockedValue { String(buffer: $0) }
    }

    /// The status, headers and JSON body of the first response in `text`, and what follows it.
    public static func firstResponse(_ text: String) throws -> (status: Int, head: String, body: JSONValue, rest: String) {
        let bytes = Array(text.utf8)
        let end = try #require(text.range(of: "\r\n\r\n")).upperBound
        let head = String(text[..<end])
        let headLength = head.utf8.count
        let status = try #require(Int(head.split(separator: " ").dropFirst().first ?? ""))
        let length = try #require(head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) })
        let body = Array(bytes[headLength..<min(bytes.count, headLength + length)])
        let rest = String(decoding: bytes[min(bytes.count, headLength + length)...], as: UTF8.self)
        return (status, head, try JSONValue.parse(body), rest)
    }
}
