import Foundation
import RelayCore

/// What a LinkedIn `/rest` answer means (providers.md §2.5), as a pure function.
///
/// 401 → token rejected; 429 → rate limited until the next midnight UTC (LinkedIn's daily limits reset
/// then and it sends no reset header); 5xx/408 → retryable; a duplicate post → 409; other 4xx → permanent.
public enum LinkedInResponseClassifier {
    public static func classify(status: Int, headers: [(String, String)], body: Data, now: Date) -> ResponseClassification {
        let json = try? JSONValue.parse(body)
        let message = json?["message"]?.stringValue ?? Self.text(body) ?? "HTTP \(status)"
        let reset = status == 429 ? ResponseClassification.retryAfter(headers, now: now) ?? nextMidnightUTC(after: now) : nil
        if let common = ResponseClassification.common(status: status, message: message, headers: headers, rateLimitReset: reset, now: now) {
            return common
        }
        let code = json?["code"]?.stringValue ?? ""
        if code == "DUPLICATE_POST" || message.lowercased().contains("duplicate") {
            return ResponseClassification(kind: .permanent, message: message, replyStatus: 409)
        }
        if status == 426 {  // the configured LinkedIn-Version is not (or no longer) active
            return ResponseClassification(kind: .permanent, message: message + " (check PUSHRELAY_LINKEDIN_VERSION)", replyStatus: 502)
        }
        return ResponseClassification(
            kind: .permanent, message: message, replyStatus: ResponseClassification.replyStatus(forProviderStatus: status))
    }

    static func nextMidnightUTC(after now: Date) -> Date {
        let day: TimeInterval = 86_400
        return Date(timeIntervalSince1970: (now.timeIntervalSince1970 / day).rounded(.down) * day + day)
    }

    static func text(_ body: Data) -> String? {
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
