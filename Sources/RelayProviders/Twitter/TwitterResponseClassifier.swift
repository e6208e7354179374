import Foundation
import RelayCore

/// What an X API v2 answer means (providers.md §4.5), as a pure function.
///
/// 401 → token rejected; 429 → rate limited until `x-rate-limit-reset`; 5xx/408 → retryable;
/// 403 duplicate content → 409 (OneAll: correct request that cannot be executed); other 4xx → permanent.
public enum TwitterResponseClassifier {
    public static func classify(status: Int, headers: [(String, String)], body: Data, now: Date) -> ResponseClassification {
        let message = Self.message(body) ?? "HTTP \(status)"
        if let common = ResponseClassification.common(
            status: status, message: message, headers: headers, rateLimitReset: status == 429 ? resetTime(headers, now: now) : nil, now: now)
        {
            return common
        }
        switch status {
        case 403 where message.lowercased().contains("duplicate"):
            return ResponseClassification(kind: .permanent, message: message, replyStatus: 409)
        case 403 where message.lowercased().contains("too long"):
            return ResponseClassification(kind: .permanent, message: message, replyStatus: 400)
        default:
            if legacyCodes(body).contains(88) {
                return ResponseClassification(
                    kind: .rateLimited, message: message, retryAt: resetTime(headers, now: now), replyStatus: 429)
            }
            return ResponseClassification(
                kind: .permanent, message: message, replyStatus: ResponseClassification.replyStatus(forProviderStatus: status))
        }
    }

    /// `Retry-After`, else `x-rate-limit-reset` (unix seconds).
    static func resetTime(_ headers: [(String, String)], now: Date) -> Date? {
        if let retryAfter = ResponseClassification.retryAfter(headers, now: now) { return retryAfter }
        guard let value = headers.first(where: { $0.0.lowercased() == "x-rate-limit-reset" })?.1,
            let seconds = TimeInterval(value.trimmingCharacters(in: .whitespaces))
        else { return nil }
        return Date(timeIntervalSince1970: seconds)
    }

    /// The human part of an error body: problem+json `detail`/`title`, or `errors[0].message`.
    static func message(_ body: Data) -> String? {
        guard let json = try? JSONValue.parse(body) else {
            let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            return text.isEmpty ? nil : text
        }
        if let detail = json["detail"]?.stringValue { return detail }
        if let title = json["title"]?.stringValue { return title }
        if let first = json["errors"]?.arrayValue?.first {
            return first["message"]?.stringValue ?? first["detail"]?.stringValue ?? first["title"]?.stringValue
        }
        return nil
    }

    static func legacyCodes(_ body: Data) -> [Int64] {
        guard let errors = (try? JSONValue.parse(body))?["errors"]?.arrayValue else { return [] }
        return errors.compactMap { error in
            if case .integer(let code)? = error["code"] { return code }
            return nil
        }
    }
}
