import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Serves generated media files, so tests and demos have pictures and videos to point at.
///
/// `GET /media/<name>.<png|jpg|gif|webp|mp4|mov|bin>?bytes=N` streams N bytes (default 4096) that start
/// with the format's magic bytes, generated on the fly (a 1 GiB video costs no memory). Options:
/// `content_type=` overrides the Content-Type (to test mislabelled files), `nolength=1` omits
/// Content-Length, `redirect=N` answers N redirects before the file, `status=` answers that status,
/// `trickle_ms=N` sends the magic bytes and then one byte every N milliseconds (a stalling server).
enum MediaOrigin {
    static func magic(for name: String) -> (bytes: [UInt8], contentType: String) {
        switch name.split(separator: ".").last.map(String.init) ?? "" {
        case "png": return ([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "image/png")
        case "jpg", "jpeg": return ([0xFF, 0xD8, 0xFF, 0xE0], "image/jpeg")
        case "gif": return (Array("GIF89a".utf8), "image/gif")
        case "webp": return (Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBP".utf8), "image/webp")
        case "mp4": return ([0, 0, 0, 0x18] + Array("ftypmp42".utf8), "video/mp4")
        case "mov": return ([0, 0, 0, 0x14] + Array("ftypqt  ".utf8), "video/quicktime")
        default: return (Array("plain text, not media".utf8), "application/octet-stream")
        }
    }

    static func serve(_ request: Request, name: String) -> Response {
        let query = Dictionary(
            (URLComponents(string: request.uri.description)?.queryItems ?? []).map { ($0.name, $0.value ?? "") },
            uniquingKeysWith: { $1 })
        if let status = query["status"].flatMap(Int.init) {
            return Response(status: .init(code: status))
        }
        if let hops = query["redirect"].flatMap(Int.init), hops > 0 {
            var components = URLComponents(string: request.uri.description)!
            components.queryItems = components.queryItems?.map { $0.name == "redirect" ? URLQueryItem(name: "redirect", value: String(hops - 1)) : $0 }
            var headers = HTTPFields()
            headers[.location] = components.string!
            return Response(status: .found, headers: headers)
        }
        let total = query["bytes"].flatMap(Int.init) ?? 4096
        let (magic, contentType) = magic(for: name)
        var headers = HTTPFields()
        headers[.contentType] = query["content_type"] ?? contentType
        let sendLength = query["nolength"] != "1"
        if let interval = query["trickle_ms"].flatMap(Int.init) {
            let body = ResponseBody(contentLength: sendLength ? total : nil) { writer in
                try await writer.write(ByteBuffer(bytes: magic.prefix(total)))
                for _ in magic.count..<max(magic.count, total) {
                    try await Task.sleep(for: .milliseconds(interval))
                    try await writer.write(ByteBuffer(bytes: [0x5A]))
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: headers, body: body)
        }
        let body = ResponseBody(contentLength: sendLength ? total : nil) { writer in
            let chunkSize = 1 << 20
            var filler = ByteBuffer(repeating: 0x5A, count: chunkSize)
            var sent = 0
            while sent < total {
                var chunk: ByteBuffer
                if sent == 0 {
                    chunk = ByteBuffer(bytes: magic.prefix(total))
                    let rest = min(total, chunkSize) - chunk.readableBytes
                    if rest > 0 { chunk.writeRepeatingByte(0x5A, count: rest) }
                } else {
                    chunk = filler.getSlice(at: 0, length: min(chunkSize, total - sent))!
                }
                sent += chunk.readableBytes
                try await writer.write(chunk)
            }
            _ = filler.readSlice(length: 0)
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
