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

    mutating func append(_ text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func append(_ byte: UInt8) { bytes.append(byte) }

    /// The current time in UTC, to the millisecond: `2026-12-06T13:40:07.123Z`.
    ///
    /// From `clock_gettime` and `gmtime_r`: `localtime`, which swift-log's stream handler calls, re-reads
    /// the time zone for every line.
    mutating func appendTimestamp() {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var fields = tm()
        gmtime_r(&seconds, &fields)
        appendDigits(Int(fields.tm_year) + 1900, count: 4)
        append(UInt8(ascii: "-"))
        appendDigits(Int(fields.tm_mon) + 1, count: 2)
        append(UInt8(ascii: "-"))
        appendDigits(Int(fields.tm_mday), count: 2)
        append(UInt8(ascii: "T"))
        appendDigits(Int(fields.tm_hour), count: 2)
        append(UInt8(ascii: ":"))
        appendDigits(Int(fields.tm_min), count: 2)
        append(UInt8(ascii: ":"))
        appendDigits(Int(fields.tm_sec), count: 2)
        append(UInt8(ascii: "."))
        appendDigits(Int(now.tv_nsec) / 1_000_000, count: 3)
        append(UInt8(ascii: "Z"))
    }

    /// `value` in decimal, zero-padded to `count` digits.
    mutating func appendDigits(_ value: Int, count: Int) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
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
