import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import RelayCore
import Testing
import TestSupport

@testable import RelayEngine

/// A subscriber's answer is read until the delivery's deadline, not until it ends: AsyncHTTPClient's read
/// timeout restarts with every byte, and a subscriber trickling its body held a delivery slot for hours
/// (seen by hand: a callback `delivering` for minutes, and a SIGTERM that waited for it).
@Suite struct CallbackAnswerTests {
    /// Answers every request with a head announcing 1000 bytes, sends two of them, and then nothing.
    final class Trickle: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(NIOAny(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nok")), promise: nil)
        }
    }

    @Test func aTrickledAnswerIsGivenUpAtTheDeadline() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Trickle()) } }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        // Without the deadline the body fails on the read timeout instead (another error), after 5 s.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(5))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { Task { try? await client.shutdown() } }
        let response = try await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/hook"), timeout: .seconds(10))
        #expect(response.status == .ok)
        // The body would take AsyncHTTPClient's read timeout (minutes) to fail; the deadline ends it.
        let deadline = ContinuousClock.now + .milliseconds(300)
        await #expect(throws: RelayError.self) {
            _ = try await CallbackWorker.collect(response.body, upTo: 64 << 10, until: deadline)
        }
    }

    @Test func aWholeAnswerIsReadAsItIs() async throws {
        let env = try await TestEnvironment.shared.value
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        defer { Task { try? await client.shutdown() } }
        let response = try await client.execute(HTTPClientRequest(url: env.baseURL + "/healthz"), timeout: .seconds(10))
        let body = try await CallbackWorker.collect(response.body, upTo: 64 << 10, until: ContinuousClock.now + .seconds(10))
        #expect(String(buffer: body).contains(#""status":"ok""#))
    }
}
