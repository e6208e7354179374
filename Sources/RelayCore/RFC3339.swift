import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// RFC 3339 date-times, the format of every timestamp PushRelay reads or writes in JSON.
public enum RFC3339 {
    /// Reads an RFC 3339 date-time. Its year has four digits (`date-fullyear = 4DIGIT`): Foundation's
    /// style also reads `300000-01-01T00:00:00Z`, a date past the end of PostgreSQL's `timestamptz`
    /// (294276 AD), which made the insert fail with a 500.
    public static func parse(_ text: String) -> Date? {
        let utf8 = Array(text.utf8.prefix(5))
        guard utf8.count == 5, utf8[0..<4].allSatisfy({ (0x30...0x39).contains($0) }), utf8[4] == UInt8(ascii: "-") else {
            return nil
        }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// `2026-12-06T13:40:07.123Z`: UTC, the milliseconds truncated (as Foundation's `ISO8601FormatStyle`
    /// with fractional seconds writes it). Written by hand from `gmtime_r`: every accepted request formats
    /// two of these, and the format style cost 1.7 % of an ingest request's CPU.
    public static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds.floorDivided(by: 1000))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        var text = ""
        text.reserveCapacity(24)
        text.appendDigits(Int(fields.tm_year) + 1900, count: 4)
        text.append("-")
        text.appendDigits(Int(fields.tm_mon) + 1, count: 2)
        text.append("-")
        text.appendDigits(Int(fields.tm_mday), count: 2)
        text.append("T")
        text.appendDigits(Int(fields.tm_hour), count: 2)
        text.append(":")
        text.appendDigits(Int(fields.tm_min), count: 2)
        text.append(":")
        text.appendDigits(Int(fields.tm_sec), count: 2)
        text.append(".")
        text.appendDigits(Int(milliseconds - Int64(seconds) * 1000), count: 3)
        text.append("Z")
        return text
    }
}

extension Int64 {
    /// The quotient rounded toward negative infinity (`/` rounds toward zero), so that dates before 1970
    /// keep a millisecond part in 0...999.
    fileprivate func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}

extension String {
    /// `value` in decimal, zero-padded to `count` digits.
    fileprivate mutating func appendDigits(_ value: Int, count: Int) {
        let digits = String(value)
        if digits.utf8.count < count { append(String(repeating: "0", count: count - digits.utf8.count)) }
        append(digits)
    }
}

/// The `response.request.date` format of OneAll replies: PHP's `date('r')`, in UTC
/// (`Mon, 30 Nov 2026 21:01:06 +0000`).
///
/// Written by hand from the UTC calendar fields: every reply carries one, and a `DateFormatter` (ICU)
/// made per reply was the largest single cost of a request.
public enum OneAllDate {
    static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        var text = days[Int(fields.tm_wday)] + ", "
        text.appendDigits(Int(fields.tm_mday), count: 2)
        text += " " + months[Int(fields.tm_mon)] + " "
        text.appendDigits(Int(fields.tm_year) + 1900, count: 4)
        text += " "
        text.appendDigits(Int(fields.tm_hour), count: 2)
        text += ":"
        text.appendDigits(Int(fields.tm_min), count: 2)
        text += ":"
        text.appendDigits(Int(fields.tm_sec), count: 2)
        return text + " +0000"
    }
}
