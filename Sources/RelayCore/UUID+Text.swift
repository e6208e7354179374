import Foundation

/// UUIDs as PushRelay writes and reads them: lower-case `8-4-4-4-12` text, and new random ids.
///
/// Every accepted request makes an event id, writes it in its batch, its reply, its headers and its log
/// line, and reads ids back from the batch's answer. Foundation does each of these through C: `UUID()`
/// opens, reads and closes `/dev/urandom` for every id, `uuidString` formats with `snprintf` and
/// `UUID(uuidString:)` parses with `sscanf`. Together they were 7 % of the relay's CPU during ingest; these
/// do the same in Swift, with the same results.
extension UUID {
    /// A random (version 4, RFC 9562) UUID from the system's cryptographic generator (`getrandom`).
    public static func random() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var high = generator.next() as UInt64
        var low = generator.next() as UInt64
        high = (high & ~0xF000) | 0x4000  // version 4
        low = (low & ~(0xC000_0000_0000_0000 as UInt64)) | 0x8000_0000_0000_0000  // variant 10
        let h = high.bigEndian
        let l = low.bigEndian
        return withUnsafeBytes(of: (h, l)) { bytes in
            UUID(uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        }
    }

    /// The lower-case `8-4-4-4-12` text, the form PushRelay writes in replies, headers, URLs and logs.
    public var lowercasedString: String {
        let digits: StaticString = "0123456789abcdef"
        return withUnsafeBytes(of: uuid) { bytes in
            String(unsafeUninitializedCapacity: 36) { text in
                digits.withUTF8Buffer { digits in
                    var out = 0
                    for index in 0..<16 {
                        if index == 4 || index == 6 || index == 8 || index == 10 {
                            text[out] = UInt8(ascii: "-")
                            out += 1
                        }
                        text[out] = digits[Int(bytes[index] >> 4)]
                        text[out + 1] = digits[Int(bytes[index] & 0x0F)]
                        out += 2
                    }
                    return out
                }
            }
        }
    }

    /// Reads `8-4-4-4-12` hexadecimal text in either case, as `UUID(uuidString:)` does; nil for anything else.
    public init?(text: some StringProtocol) {
        var bytes: (UInt64, UInt64) = (0, 0)
        var count = 0
        var position = 0
        for byte in text.utf8 {
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard byte == UInt8(ascii: "-") else { return nil }
                position += 1
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): value = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            guard count < 32 else { return nil }
            if count < 16 { bytes.0 = bytes.0 << 4 | UInt64(value) } else { bytes.1 = bytes.1 << 4 | UInt64(value) }
            count += 1
            position += 1
        }
        guard count == 32, position == 36 else { return nil }
        let h = bytes.0.bigEndian
        let l = bytes.1.bigEndian
        self = withUnsafeBytes(of: (h, l)) { bytes in
            UUID(uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
        }
    }
}
