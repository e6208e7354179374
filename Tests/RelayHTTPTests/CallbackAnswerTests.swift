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
    /// Answers every request with a head announcing 1000 bytes, sends two of them, and then nothing; `closed`
    /// is completed when the client gives up and closes the connection.
    final class Trickle: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let closed: EventLoopPromise<Void>?

        init(closed: EventLoopPromise<Void>? = nil) { self.closed = closed }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(NIOAny(ByteBuffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nok")), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            closed?.succeed()
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

    /// Through the relay and PostgreSQL: a publish whose `callback_url` answers 200 and then trickles its body
    /// gets its callback recorded `delivered` within the delivery's deadline (15 s; before, it stayed
    /// `delivering` until the body ended, hours later).
    @Test func aTricklingSubscriberIsRecordedDelivered() async throws {
        let env = try await TestEnvironment.shared.value
        let group = MultiThreadedEventLoopGroup.singleton
        let closed = group.any().makePromise(of: Void.self)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Trickle(closed: closed)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        let identity = try await env.connectIdentity()
        let url = "http://127.0.0.1:\(port)/hook"
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"callback_url":"\#(url)","push":{"post":{"message":"trickled \#(UUID())"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id").flatMap(UUID.init(uuidString:)))
        // The relay gives up on the answer and closes the connection; this waits for that (at most 20 s, so
        // that the loop below rarely runs long; the record, not the close, is what is asserted) ...
        _ = try await withThrowingTaskGroup(of: Bool.self) { tasks in
            tasks.addTask { (try? await closed.futureResult.get()) != nil }
            tasks.addTask {
                try await Task.sleep(until: .now + .seconds(20))
                closed.fail(CancellationError())  // ends the other task's wait, which no cancellation does
                return false
            }
            defer { tasks.cancelAll() }
            return try await tasks.next()!
        }
        // ... and records the delivery (read until it shows, within a deadline).
        let deadline = ContinuousClock.now + .seconds(30)
        var state = ""
        repeat {
            // The callback_url's callback only: other tests' subscriptions get this event's outcome too.
            let rows = try await env.store.client.query("SELECT state FROM callbacks WHERE event_id = \(eventID) AND url = \(url)")
            for try await value in rows.decode(String.self) { state = value }
        } while state != "delivered" && ContinuousClock.now < deadline
        #expect(state == "delivered")
        let rows = try await env.store.client.query(
            "SELECT a.http_status, a.error FROM callback_attempts a JOIN callbacks c ON c.id = a.callback_id WHERE c.event_id = \(eventID) AND c.url = \(url)")
        for try await (status, error) in rows.decode((Int?, String?).self) {
            #expect(status == 200)
            #expect(error?.contains("did not end within the delivery's time") == true, "\(error ?? "nil")")
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
