import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import RelayCore

/// Answers a request that is not HTTP/1.1 at all in the OneAll envelope, and logs it.
///
/// The HTTP decoder refuses some requests before any route or middleware sees them: a head over the
/// decoder's limits (80 kB of headers, 1000 fields), a malformed request line or header, a bad chunk size.
/// Hummingbird then answers an empty `400` and logs nothing above debug. This handler, placed after the
/// decoding, answers such a request with the envelope instead — `431` when the head is too large, `400`
/// otherwise — and closes the connection as Hummingbird does (the rest of the stream cannot be read).
///
/// It answers only between requests: when the error comes while a request is being answered (a body that
/// turns out malformed), it passes the error on, and Hummingbird ends that request as before.
final class MalformedRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let logger: Logger
    /// Request heads come in whose responses have not ended (a client may pipeline several).
    private var requestsInFlight = 0
    /// This handler answered and is closing the connection: what follows is dropped.
    private var answered = false

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if answered { return }
        if case .head = unwrapInboundIn(data) { requestsInFlight += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { requestsInFlight = max(0, requestsInFlight - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if answered { return }
        // A connection already closed (by its client, or after a 408) is not answered: the error is passed on.
        guard let parserError = Self.parserError(error), requestsInFlight == 0, context.channel.isActive else {
            context.fireErrorCaught(error)
            return
        }
        answered = true
        let failure = Self.relayError(for: parserError)
        logger.notice("request", metadata: ["status": "\(failure.status)", "info": "\(failure.info)", "error": "\(parserError)"])
        context.refuseAndClose(failure, status: failure.status == 431 ? .requestHeaderFieldsTooLarge : .badRequest, resource: "")
    }

    static func parserError(_ error: any Error) -> HTTPParserError? {
        if let error = error as? HTTPParserError { return error }
        if case ByteToMessageDecoderError.dataReceivedInErrorState(let error as HTTPParserError, _) = error { return error }
        return nil
    }

    static func relayError(for error: HTTPParserError) -> RelayError {
        switch error {
        case .headerOverflow:
            RelayError(status: 431, info: "The request's headers are larger than 80 kB or more than 1000 fields; nothing was read")
        default:
            .badRequest("The request is not valid HTTP/1.1 (\(error)); nothing was read")
        }
    }
}
