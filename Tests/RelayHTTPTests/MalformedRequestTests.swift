import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import RelayCore
import Testing
import TestSupport

/// Requests the HTTP decoder refuses before any route sees them are answered in the envelope, with 431 for a
/// head that is too large (it was Hummingbird's empty 400), and the connection is closed.
@Suite struct MalformedRequestTests {
    /// Everything the relay sends on one raw connection, until it closes it.
    final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received = NIOLockedValueBox(ByteBuffer())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            received.withLockedValue { $0.writeBuffer(&bytes) }
        }
    }

    /// Sends `bytes` on a new connection and returns what came back before the relay closed it.
    func exchange(_ bytes: [UInt8], with base: String) async throws -> String {
        let port = try #require(URLComponents(string: base)?.port)
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        // The relay may close the connection before all of a too-large head is written.
        try? await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
        #expect(try await channel.closedByPeer(), "the relay kept the connection open")
        return collector.received.withLockedValue { String(buffer: $0) }
    }

    /// The status, headers and JSON body of the first response in `text`, and what follows it.
    func firstResponse(_ text: String) throws -> (status: Int, head: String, body: JSONValue, rest: String) {
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

    @Test func aHeadTooLargeIs431InTheEnvelope() async throws {
        let env = try await TestEnvironment.shared.value
        let cookie = String(repeating: "c", count: 100_000)
        let text = try await exchange(Array("GET /healthz HTTP/1.1\r\nHost: relay\r\nCookie: \(cookie)\r\n\r\n".utf8), with: env.baseURL)
        let reply = try firstResponse(text)
        #expect(reply.status == 431, "\(text.prefix(300))")
        #expect(reply.head.lowercased().contains("connection: close"))
        #expect(reply.body["response"]?["request"]?["status"]?["code"] == 431)
        #expect(reply.body["response"]?["request"]?["status"]?["flag"] == "error")
        #expect(reply.body["response"]?["request"]?["status"]?["info"]?.stringValue?.contains("larger than 80 kB") == true)
        // The relay goes on serving.
        #expect(try await env.send(.GET, "/healthz", authenticated: false).status == 200)
    }

    @Test func aRequestThatIsNotHTTPIs400InTheEnvelope() async throws {
        let env = try await TestEnvironment.shared.value
        let text = try await exchange(Array("HELLO THERE\r\n\r\n".utf8), with: env.baseURL)
        let reply = try firstResponse(text)
        #expect(reply.status == 400, "\(text.prefix(300))")
        #expect(reply.body["response"]?["request"]?["status"]?["code"] == 400)
        #expect(reply.body["response"]?["request"]?["status"]?["info"]?.stringValue?.contains("not valid HTTP/1.1") == true)
    }

    /// A malformed request after a valid one on the same connection does not cut into the valid one's answer.
    @Test func aMalformedRequestAfterAValidOneLeavesItsAnswerWhole() async throws {
        let env = try await TestEnvironment.shared.value
        let text = try await exchange(Array("GET /healthz HTTP/1.1\r\nHost: relay\r\n\r\nHELLO THERE\r\n\r\n".utf8), with: env.baseURL)
        let first = try firstResponse(text)
        #expect(first.status == 200, "\(text.prefix(300))")
        #expect(first.body["response"]?["request"]?["status"]?["code"] == 200)
        #expect(first.rest.hasPrefix("HTTP/1.1 400 "), "\(text)")
    }
}
