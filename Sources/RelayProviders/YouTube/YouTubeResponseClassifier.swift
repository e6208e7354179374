import Foundation
import RelayCore

/// What a YouTube Data API answer means (providers.md §5.6), as a pure function.
///
/// The reason in `error.errors[0].reason` decides: `quotaExceeded` waits for the daily reset (midnight
/// Pacific time), `rateLimitExceeded` backs off, `uploadLimitExceeded` waits a day, `authError` refreshes,
/// `youtubeSignupRequired` and the other 4xx are permanent, 5xx are retried.
public enum YouTubeResponseClassifier {
    public static func classify(status: Int, headers: [(String, String)], body: Data, now: Date) -> ResponseClassification {
        let json = try? JSONValue.parse(body)
        let message = json?["error"]?["message"]?.stringValue ?? text(body) ?? "HTTP \(status)"
        let reason = json?["error"]?["errors"]?.arrayValue?.first?["reason"]?.stringValue ?? ""
        switch (status, reason) {
        case (401, "youtubeSignupRequired"):
            return ResponseClassification(kind: .permanent, message: message + " (the account has no YouTube channel)", replyStatus: 403)
        case (403, "quotaExceeded"):
            return ResponseClassification(kind: .rateLimited, message: message, retryAt: nextPacificMidnight(after: now), replyStatus: 429)
        case (403, "rateLimitExceeded"), (403, "userRateLimitExceeded"):
            return ResponseClassification(kind: .rateLimited, message: message, replyStatus: 429)
        case (400, "uploadLimitExceeded"):
            return ResponseClassification(kind: .rateLimited, message: message, retryAt: now.addingTimeInterval(86_400), replyStatus: 429)
        default:
            if let common = ResponseClassification.common(status: status, message: message, headers: headers, now: now) { return common }
            return ResponseClassification(
                kind: .permanent, message: message, replyStatus: ResponseClassification.replyStatus(forProviderStatus: status))
        }
    }

    /// YouTube quotas reset at midnight Pacific time.
    static func nextPacificMidnight(after now: Date) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/Los_Angeles")!
        let today = calendar.startOfDay(for: now)
        return calendar.date(byAdding: .day, value: 1, to: today)!
    }

    static func text(_ body: Data) -> String? {
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
