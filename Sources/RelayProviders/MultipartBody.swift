import MultipartKit
import NIOCore
import NIOHTTP1

/// A `multipart/form-data` body for provider uploads, built with MultipartKit.
public struct MultipartBody: Sendable {
    public let boundary: String
    private var parts: [MultipartPart] = []

    public init() {
        boundary = "pushrelay-" + String(UInt64.random(in: .min ... .max), radix: 16)
    }

    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    public mutating func add(name: String, value: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Disposition", value: "form-data; name=\"\(name)\"")
        parts.append(MultipartPart(headers: headers, body: value))
    }

    public mutating func add(name: String, filename: String, contentType: String, data: ByteBuffer) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Disposition", value: "form-data; name=\"\(name)\"; filename=\"\(filename)\"")
        headers.add(name: "Content-Type", value: contentType)
        parts.append(MultipartPart(headers: headers, body: data))
    }

    public func encoded() throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try MultipartSerializer().serialize(parts: parts, boundary: boundary, into: &buffer)
        return buffer
    }
}
