/// An error PushRelay answers with: an HTTP status and the sentence that goes in the OneAll `info`.
///
/// Every layer throws this for anything a client should see; the HTTP layer renders it in the
/// envelope, so no handler builds error JSON by hand.
public struct RelayError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The HTTP status, also `response.request.status.code`.
    public let status: Int
    /// One human sentence saying what went wrong and, where possible, what to do.
    public let info: String
    /// Seconds a client should wait before trying again (429, 503).
    public let retryAfter: Int?

    public init(status: Int, info: String, retryAfter: Int? = nil) {
        self.status = status
        self.info = info
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status): \(info)" }

    /// OneAll's documented wire string for missing or wrong credentials.
    public static let authenticationInfo =
        "Authentication credentials are missing or incorrect: http://docs.oneall.com/api/basic/authentication/"

    public static func badRequest(_ info: String) -> RelayError { RelayError(status: 400, info: info) }
    public static func unauthorized(_ info: String = authenticationInfo) -> RelayError { RelayError(status: 401, info: info) }
    public static func forbidden(_ info: String) -> RelayError { RelayError(status: 403, info: info) }
    public static func notFound(_ info: String) -> RelayError { RelayError(status: 404, info: info) }
    public static func methodNotAllowed(_ info: String) -> RelayError { RelayError(status: 405, info: info) }
    public static func conflict(_ info: String) -> RelayError { RelayError(status: 409, info: info) }
    public static func payloadTooLarge(limit: Int) -> RelayError {
        RelayError(status: 413, info: "The request body is larger than the limit of \(limit) bytes")
    }
    public static func unprocessable(_ info: String) -> RelayError { RelayError(status: 422, info: info) }
    public static func internalError(_ info: String = "An unexpected error occurred; it has been logged") -> RelayError {
        RelayError(status: 500, info: info)
    }
    public static func unavailable(_ info: String, retryAfter: Int? = nil) -> RelayError {
        RelayError(status: 503, info: info, retryAfter: retryAfter)
    }
}

extension RelayError {
    /// The longest piece of a client's input that a sentence quotes whole.
    public static let quotedLimit = 120

    /// `text` as a sentence of a reply or a log line quotes it: whole when it is short, else its start and its
    /// length (`aaaa… (6000 bytes)`), so that a 6000-character id or path is not sent back and logged entire.
    public static func excerpt(_ text: some StringProtocol, limit: Int = quotedLimit) -> String {
        let bytes = text.utf8.count
        guard bytes > limit else { return String(text) }
        var kept = ""
        for scalar in text.unicodeScalars {
            guard kept.utf8.count + scalar.utf8.count <= limit - 20 else { break }
            kept.unicodeScalars.append(scalar)
        }
        return "\(kept)… (\(bytes) bytes)"
    }
}
