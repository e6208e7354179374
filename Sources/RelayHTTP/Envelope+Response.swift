import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RelayCore

extension Envelope: ResponseGenerator {
    /// The envelope as a JSON response with `Content-Length` (some OneAll clients cannot read chunked bodies).
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response(retryAfter: nil, eventID: nil)
    }

    func response(retryAfter: Int?, eventID: UUID?) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let eventID { headers[.pushRelayEventID] = eventID.lowercasedString }
        let body = ByteBuffer(bytes: json.serializedBytes())
        headers[.contentLength] = String(body.readableBytes)
        return Response(status: .init(code: code), headers: headers, body: .init(byteBuffer: body))
    }
}

extension HTTPField.Name {
    /// Names the event a Push API reply is about, also on error replies (which carry no `result`).
    static let pushRelayEventID = Self("PushRelay-Event-Id")!
    static let idempotencyKey = Self("Idempotency-Key")!
    static let prefer = Self("Prefer")!
    static let webhookID = Self("webhook-id")!
    static let webhookTimestamp = Self("webhook-timestamp")!
    static let webhookSignature = Self("webhook-signature")!
}
