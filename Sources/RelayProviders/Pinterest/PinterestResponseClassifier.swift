import Foundation
import RelayCore

/// What a Pinterest API v5 answer means (providers.md §3.5), as a pure function.
///
/// 401 → token rejected (refresh once, then reconnect); 429 → rate limited (`Retry-After` if given);
/// 5xx/408 → retryable; 403 → permanent (scope or board ownership); 400/404 → permanent.
public enum PinterestResponseClassifier {
    public static func classify(status: Int, headers: [(String, String)], body: Data, now: Date) -> ResponseClassification {
        let message = Self.message(body) ?? "HTTP \(status)"
        if let common = ResponseClassification.common(status: status, message: message, headers: headers, now: now) {
            return common
        }
        return ResponseClassification(
            kind: .permanent, message: message, replyStatus: ResponseClassification.replyStatus(forProviderStatus: status))
    }

    /// `message` of Pinterest's error body `{"code":…,"message":"…"}`.
    static func message(_ body: Data) -> String? {
        if let json = try? JSONValue.parse(body), let message = json["message"]?.stringValue { return message }
        let text = String(decoding: body.prefix(300), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }
}
