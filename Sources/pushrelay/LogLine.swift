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
