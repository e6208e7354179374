import Foundation
import HTTPTypes
import Hummingbird
import MultipartKit
import NIOCore
import RelayCore

/// A request to a sandboxed provider, read whole and parsed once for the provider's handler.
public struct SandboxCall: Sendable {
    /// One field of a `multipart/form-data` body.
    public struct FormField: Sendable {
        public let data: ByteBuffer
        public let filename: String?
        public let contentType: String?
        public var text: String { String(buffer: data) }
    }

    public let method: String
    public let path: String
    public let query: [String: String]
    public let headers: [(String, String)]
    public let body: ByteBuffer
    /// The body parsed as JSON, when it is JSON.
    public let json: JSONValue?
    /// The fields of a multipart body, when it is one.
    public let form: [String: FormField]?
    /// The fields of an `application/x-www-form-urlencoded` body (OAuth token requests).
    public let urlEncoded: [String: String]?
    public let bearerToken: String?
    /// `host:port` the client addressed (HTTP/1.1 `Host`), to build URLs that point back at the sandbox.
    public let authority: String?
    /// `client_id:client_secret` of an HTTP Basic header (OAuth clients).
    public let basicCredentials: String?

    /// The token a request acts with: its bearer token, or the refresh token of a token refresh.
    /// Recordings and faults are filtered by it.
    public var actingToken: String? {
        bearerToken ?? urlEncoded?["refresh_token"] ?? query["fb_exchange_token"]
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    init(request: Request, body: ByteBuffer, pathPrefix: String) throws {
        method = request.method.rawValue
        authority = request.head.authority
        let fullPath = request.uri.path
        path = String(fullPath.dropFirst(pathPrefix.count))
        var query: [String: String] = [:]
        for item in URLComponents(string: request.uri.description)?.queryItems ?? [] { query[item.name] = item.value ?? "" }
        self.query = query
        headers = request.headers.map { ($0.name.rawName, $0.value) }
        self.body = body
        let contentType = request.headers[.contentType] ?? ""
        if contentType.lowercased().hasPrefix("multipart/form-data") {
            form = try Self.parseMultipart(body, contentType: contentType)
            json = nil
            urlEncoded = nil
        } else if contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") {
            form = nil
            json = nil
            var components = URLComponents()
            components.percentEncodedQuery = String(buffer: body).replacingOccurrences(of: "+", with: "%20")
            urlEncoded = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        } else {
            form = nil
            urlEncoded = nil
            json = body.readableBytes > 0 ? try? JSONValue.parse(body.readableBytesView) : nil
        }
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            bearerToken = token.isEmpty ? nil : token
        } else {
            bearerToken = nil
        }
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6)))
        {
            basicCredentials = String(decoding: decoded, as: UTF8.self)
        } else {
            basicCredentials = nil
        }
    }

    /// A summary of the body for the recorder: JSON as is, multipart fields (binary ones by size).
    var recordedBody: JSONValue? {
        if let json { return json }
        if let urlEncoded { return .object(urlEncoded.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }) }
        if let form {
            return .object(
                form.sorted { $0.key < $1.key }.map { name, field in
                    if field.filename != nil || field.contentType != nil {
                        return (name, ["bytes": .integer(Int64(field.data.readableBytes)), "content_type": field.contentType.map(JSONValue.string) ?? .null])
                    }
                    return (name, .string(field.text))
                })
        }
        return nil
    }

    static func parseMultipart(_ body: ByteBuffer, contentType: String) throws -> [String: FormField] {
        guard let boundaryRange = contentType.range(of: "boundary=") else { throw SandboxError.badMultipart }
        var boundary = String(contentType[boundaryRange.upperBound...])
        if let semicolon = boundary.firstIndex(of: ";") { boundary = String(boundary[..<semicolon]) }
        boundary = boundary.trimmingCharacters(in: CharacterSet(charactersIn: "\" "))
        let parser = MultipartParser(boundary: boundary)
        var fields: [String: FormField] = [:]
        var headers: [String: String] = [:]
        var data = ByteBuffer()
        parser.onHeader = { name, value in headers[name.lowercased()] = value }
        parser.onBody = { chunk in data.writeBuffer(&chunk) }
        parser.onPartComplete = {
            let disposition = headers["content-disposition"] ?? ""
            if let name = Self.parameter("name", in: disposition) {
                fields[name] = FormField(data: data, filename: Self.parameter("filename", in: disposition), contentType: headers["content-type"])
            }
            headers = [:]
            data = ByteBuffer()
        }
        try parser.execute(body)
        return fields
    }

    static func parameter(_ name: String, in disposition: String) -> String? {
        for part in disposition.split(separator: ";") {
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix(name + "=") {
                return String(trimmed.dropFirst(name.count + 1)).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }
}

enum SandboxError: Error { case badMultipart, connectionDropped }

extension Response {
    /// A JSON response with the given status and extra headers.
    static func json(_ status: Int, _ body: JSONValue, headers extra: [(String, String)] = [], contentType: String = "application/json")
        -> Response
    {
        var fields = HTTPFields()
        fields[.contentType] = contentType
        for (name, value) in extra {
            if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: body.serialized())))
    }
}
