import HTTPTypes
import NIOCore
import NIOHTTPTypes
import RelayCore

extension ChannelHandlerContext {
    /// Answers `failure` in the OneAll envelope from the channel pipeline, then closes the connection: for the
    /// handlers that refuse a request no route will see the end of (`MalformedRequestHandler`,
    /// `RequestDeadlineHandler`).
    func refuseAndClose(_ failure: RelayError, status: HTTPResponse.Status, resource: String) {
        let body = Envelope.error(resource: resource, failure).json.serializedBytes()
        var fields = HTTPFields()
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        write(NIOAny(HTTPResponsePart.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        write(NIOAny(HTTPResponsePart.body(channel.allocator.buffer(bytes: body))), promise: nil)
        writeAndFlush(NIOAny(HTTPResponsePart.end(nil))).assumeIsolated().whenComplete { _ in self.close(promise: nil) }
    }
}
