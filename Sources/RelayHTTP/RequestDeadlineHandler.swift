import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import RelayCore

/// Ends a request whose body has not arrived `Configuration.requestTimeout` after its head.
///
/// Hummingbird's idle timeout closes a connection that sends nothing for a while, half a head included, but
/// it restarts with every part read: a client sending its body one byte a minute held the connection, and the
/// task waiting for the body, for as long as it liked, and enough such clients would hold every descriptor.
/// Past the deadline this handler answers `408` in the OneAll envelope, logs it and closes the connection;
/// when the request's answer has already begun (a route that answered without reading the body), it only
/// closes. Either way the route reading the body sees it fail, so nothing of it is stored.
///
/// It costs a request the time of its head and no timer of its own: one check is scheduled per connection at
/// a time, and moved to the deadline of the request then being received.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let timeout: TimeAmount
    let logger: Logger
    /// The head of the request being received (its end not read yet), and when it came.
    private var receiving: (head: HTTPRequest, since: NIODeadline)?
    /// An answer has begun while a request was being received.
    private var answering = false
    private var check: Scheduled<Void>?
    /// This handler ended the connection: what follows is dropped.
    private var expired = false

    init(timeout: Duration, logger: Logger) {
        self.timeout = TimeAmount(timeout)
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if expired { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let now = NIODeadline.now()
            receiving = (head, now)
            answering = false
            schedule(context, at: now + timeout)
        case .body:
            break
        case .end:
            receiving = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // After the 408, the route's own answer to the failed body (a flush of ours may not have ended yet) is
        // not written after it: the 408 is the request's one answer.
        if expired {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        if case .head = unwrapOutboundIn(data), receiving != nil { answering = true }
        context.write(data, promise: promise)
    }

    /// After the deadline, the errors of the connection's end (the decoder's: the body stopped short) are
    /// not passed on: the route has had its error.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if expired { return }
        context.fireErrorCaught(error)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard check == nil else { return }
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            self.check = nil
            self.deadlinePassed(context)
        }
    }

    /// The check came: ends the request being received if its deadline has passed, else checks again at it.
    private func deadlinePassed(_ context: ChannelHandlerContext) {
        guard let receiving, !expired, context.channel.isActive else { return }
        let deadline = receiving.since + timeout
        guard NIODeadline.now() >= deadline else {
            schedule(context, at: deadline)
            return
        }
        expired = true
        let path = String((receiving.head.path ?? "").prefix { $0 != "?" })
        let failure = RelayError(
            status: 408, info: "The request's body did not arrive within \(Self.seconds(timeout)) s of its head; nothing was stored")
        // The route reading the body must see it fail, not end: the connection's end alone reaches it as the
        // body's end, and a cut body that happens to be a whole JSON document would be stored.
        context.fireErrorCaught(failure)
        // Whatever the route logs of the request (408 when it was reading the body, or its early answer), this
        // line says why the connection ends.
        logger.notice(
            "request body deadline", metadata: ["path": "\(RelayError.excerpt(path, limit: EnvelopeMiddleware.loggedPathLimit))", "info": "\(failure.info)"])
        guard !answering else {
            context.close(promise: nil)
            return
        }
        context.refuseAndClose(failure, status: .requestTimeout, resource: path)
    }

    static func seconds(_ amount: TimeAmount) -> Int64 { amount.nanoseconds / 1_000_000_000 }
}
