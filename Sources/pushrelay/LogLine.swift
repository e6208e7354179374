#if canImport(Glibc)
import Glibc
#endif

/// One log record's bytes, built in one buffer and written to stderr with one `write(2)`.
///
/// One call per line keeps the lines of concurrent tasks whole (a pipe takes writes of up to 4 KiB
/// atomically) without the stdio lock and flush that a `FILE *` needs.
struct LogLine {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// Appends text that may come from outside (a client's field in an error sentence, a provider's
    /// message) with its control characters escaped (`\n`, `\r`, `\t`, `\u001b`…): a newline in it would
    /// otherwise start a line of its own, which a client could make look like any other record.
    mutating func appendEscaped(_ text: String) {
        let utf8 = text.utf8
        guard utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else {
            bytes.append(contentsOf: utf8)
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in utf8 {
            switch byte {
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0..<0x20, 0x7F:
                append("\\u00")
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)
            }
        }
    }

    /// Writes the line to stderr; a line that cannot be written is dropped, as a log must never stop the relay.
    func writeToStandardError() {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(2, base + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
