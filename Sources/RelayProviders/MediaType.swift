/// The media formats PushRelay recognises by their first bytes (magic numbers).
///
/// A URL's Content-Type is a claim; the bytes are the truth. Every fetched file is identified
/// from its content before any provider sees it.
public enum MediaType: String, Sendable, CaseIterable {
    case jpeg, png, gif, bmp, tiff, webp, mp4, quicktime

    public var mimeType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .gif: "image/gif"
        case .bmp: "image/bmp"
        case .tiff: "image/tiff"
        case .webp: "image/webp"
        case .mp4: "video/mp4"
        case .quicktime: "video/quicktime"
        }
    }

    public var isVideo: Bool { self == .mp4 || self == .quicktime }

    /// The type the bytes say, or nil when they match no known format. Needs the first 12 bytes.
    public static func sniff(_ bytes: some Collection<UInt8>) -> MediaType? {
        let b = Array(bytes.prefix(12))
        func starts(_ prefix: [UInt8]) -> Bool { b.count >= prefix.count && Array(b.prefix(prefix.count)) == prefix }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts([0x42, 0x4D]) { return .bmp }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if b.count >= 12, starts(Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) { return .webp }
        if b.count >= 12, Array(b[4..<8]) == Array("ftyp".utf8) {
            return Array(b[8..<10]) == Array("qt".utf8) ? .quicktime : .mp4
        }
        return nil
    }

    /// The type a `Content-Type` header claims, if it names one we know.
    public static func claimed(by contentType: String?) -> MediaType? {
        guard let contentType else { return nil }
        let essence = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if essence == "image/jpg" || essence == "image/pjpeg" { return .jpeg }
        if essence == "video/x-m4v" { return .mp4 }
        return allCases.first { $0.mimeType == essence }
    }
}

/// What a provider accepts for one kind of media.
public struct MediaLimits: Sendable {
    public var what: String
    public var types: [MediaType: Int]

    /// `types` maps each accepted format to its size limit in bytes.
    public init(what: String, types: [MediaType: Int]) {
        self.what = what
        self.types = types
    }

    public var largest: Int { types.values.max() ?? 0 }
}
