import NIOCore
import NIOPosix

/// A peer that answers every request with a head announcing 1000 bytes, sends two of them, and then nothing:
/// what a server trickling its answer looks like to a client waiting for the body's end.
public struct TricklingServer: Sendable {
    /// Writes the head and the first bytes; completes `closed` when the client gives up and closes.
    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let closed: EventLoopPromise<Void>?

        init(closed: EventLoopPromise<Void>?) { self.closed = closed }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(NIOAny(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nok")), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed?.succeed()
        }
    }

    public let channel: any Channel
    public let port: Int

    /// Listens on a free loopback port; `closed`, when given, is completed when a client closes its connection.
    public static func start(closed: EventLoopPromise<Void>? = nil) async throws -> TricklingServer {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(closed: closed)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TricklingServer(channel: channel, port: channel.localAddress?.port ?? 0)
    }

    public func stop() {
        channel.close(promise: nil)
    }
}
