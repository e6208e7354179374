import Foundation
import NIOCore
import NIOPosix

/// Sends HTTP/1.1 requests from a fixed number of keep-alive connections with as little client work as
/// pgbench spends on its transactions, so that the relay's figure is not the load generator's.
///
/// Ingest is measured against pgbench, whose C client costs next to nothing beside PostgreSQL on the same
/// two CPUs. Sent through AsyncHTTPClient, the same load cost the bench about as much CPU as the relay's
/// whole request (its connection pool, request and response state machines, and a task per request):
/// 1617 req/s measured that way against 3023 req/s from `wrk` on the same relay. Here each connection is one
/// NIO channel handler on its event loop: it writes a request rendered as bytes, reads the reply's status
/// and `Content-Length`, and writes the next one; nothing else.
///
/// The relay still does all of its work for every request: the requests are rendered one by one (unique
/// ids, signed webhooks), and every reply must be a 202.
struct LeanLoad: Sendable {
    /// The bytes of request `number` of connection `client`.
    typealias Render = @Sendable (_ client: Int, _ number: Int) -> ByteBuffer

    let host: String
    let port: Int
    let clients: Int
    let render: Render

    /// `base` is the relay's `http://host:port`.
    init(base: String, clients: Int, render: @escaping Render) throws {
        guard let url = URL(string: base), let host = url.host, let port = url.port else { throw BenchError("not an http://host:port URL: \(base)") }
        self.host = host
        self.port = port
        self.clients = clients
        self.render = render
    }

    /// Sends for `seconds`, as fast as answers come (closed loop) or at `rate` requests per second in all
    /// (open loop: each request is due at a fixed time and its latency counts from then); returns the
    /// number answered 202, the seconds taken and each latency in µs.
    func run(seconds: Int, rate: Double?) async throws -> (count: Int, elapsed: Double, latencies: [UInt64]) {
        let started = ContinuousClock.now
        let start = NIODeadline.now()
        let end = start + .seconds(Int64(seconds))
        var channels: [(any Channel, EventLoopFuture<[UInt64]>)] = []
        defer { for (channel, _) in channels { channel.close(promise: nil) } }
        for client in 0..<clients {
            let promise = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: [UInt64].self)
            let pace = LoadConnection.Pace(start: start, end: end, rate: rate, client: client, clients: clients)
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .channelInitializer { [render] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(LoadConnection(pace: pace, render: render, done: promise))
                    }
                }
                .connect(host: host, port: port).get()
            channels.append((channel, promise.futureResult))
        }
        var all: [UInt64] = []
        for (_, latencies) in channels { all.append(contentsOf: try await latencies.get()) }
        let elapsed = ContinuousClock.now - started
        return (all.count, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, all)
    }
}

/// One connection of `LeanLoad`: request, reply, next request, on its channel's event loop.
final class LoadConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// When this connection's requests are due.
    struct Pace {
        let start: NIODeadline
        let end: NIODeadline
        /// Requests per second of all connections together; nil sends each as soon as the last is answered.
        let rate: Double?
        let client: Int
        let clients: Int

        /// When request `number` of this connection is due; nil once the run is over.
        func due(_ number: Int) -> NIODeadline? {
            let now = NIODeadline.now()
            guard let rate else { return now < end ? now : nil }
            let due = start + .nanoseconds(Int64(Double(number * clients + client) / rate * 1e9))
            return due < end ? due : nil
        }
    }

    let pace: Pace
    let render: LeanLoad.Render
    let done: EventLoopPromise<[UInt64]>
    var number = 0
    var due = NIODeadline.now()
    var reply: ByteBuffer?
    var latencies: [UInt64] = []
    var finished = false

    init(pace: Pace, render: @escaping LeanLoad.Render, done: EventLoopPromise<[UInt64]>) {
        self.pace = pace
        self.render = render
        self.done = done
    }

    func channelActive(context: ChannelHandlerContext) {
        sendNext(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if reply == nil { reply = bytes } else { reply!.writeBuffer(&bytes) }
        let status: Int
        do {
            guard let complete = try Self.completeReply(reply!) else { return }
            status = complete
        } catch {
            return fail(error)
        }
        guard status == 202 else {
            return fail(BenchError("ingest answered \(status): \(String(buffer: reply!).prefix(600))"))
        }
        reply = nil
        latencies.append(UInt64((NIODeadline.now() - due).nanoseconds / 1000))
        number += 1
        sendNext(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(BenchError("the relay closed a load connection after \(number) requests"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func sendNext(context: ChannelHandlerContext) {
        guard let due = pace.due(number) else {
            finished = true
            return done.succeed(latencies)
        }
        self.due = due
        let request = render(pace.client, number)
        if due > .now() {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(deadline: due) {
                let (handler, context) = loopBound.value
                guard !handler.finished else { return }
                context.writeAndFlush(handler.wrapOutboundOut(request), promise: nil)
            }
        } else {
            context.writeAndFlush(wrapOutboundOut(request), promise: nil)
        }
    }

    func fail(_ error: any Error) {
        guard !finished else { return }
        finished = true
        done.fail(error)
    }

    /// The status of a reply once all of it (head and `Content-Length` bytes of body) is in `buffer`;
    /// nil while some is missing. Read from the bytes as they are: splitting the head into strings was
    /// about a third of the load generator's CPU.
    static func completeReply(_ buffer: ByteBuffer) throws -> Int? {
        let view = buffer.readableBytesView
        guard let headEnd = headEnd(view) else { return nil }
        let start = view.startIndex
        func head() -> String { String(decoding: view[start..<min(headEnd, start + 200)], as: UTF8.self) }
        guard headEnd - start >= 12, view[start..<(start + 9)].elementsEqual("HTTP/1.1 ".utf8),
            let status = number(view[(start + 9)..<(start + 12)])
        else { throw BenchError("not an HTTP/1.1 reply: \(head())") }
        var length: Int?
        var line = start
        while line < headEnd {
            let lineEnd = view[line..<headEnd].firstIndex(of: UInt8(ascii: "\r")) ?? headEnd
            if let colon = view[line..<lineEnd].firstIndex(of: UInt8(ascii: ":")) {
                let name = view[line..<colon]
                let value = view[(colon + 1)..<lineEnd].drop { $0 == UInt8(ascii: " ") }
                if equalsIgnoringCase(name, "content-length") { length = number(value) }
                if equalsIgnoringCase(name, "transfer-encoding") {
                    throw BenchError("the load generator reads Content-Length replies only: \(head())")
                }
            }
            line = lineEnd + 2
        }
        guard let length else { throw BenchError("a reply without Content-Length: \(head())") }
        return view.endIndex - (headEnd + 4) >= length ? status : nil
    }

    /// The decimal number `digits` spell, if they are all digits.
    static func number(_ digits: ByteBufferView.SubSequence) -> Int? {
        guard !digits.isEmpty else { return nil }
        var value = 0
        for digit in digits {
            guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(digit - UInt8(ascii: "0"))
        }
        return value
    }

    /// Whether the header name `bytes` is `lowercase` (ASCII letters compared without case).
    static func equalsIgnoringCase(_ bytes: ByteBufferView.SubSequence, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        return zip(bytes, UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)).allSatisfy { byte, expected in
            byte | 0x20 == expected || byte == expected
        }
    }

    /// The index of the `\r\n\r\n` that ends the head, if it has arrived.
    static func headEnd(_ view: ByteBufferView) -> Int? {
        var index = view.startIndex
        while index + 3 < view.endIndex {
            if view[index] == 13, view[index + 1] == 10, view[index + 2] == 13, view[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }
}
