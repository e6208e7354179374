import Foundation
import RelayCore

/// What a Graph API answer means (providers.md §1.5–1.6), as a pure function of the error code.
///
/// 190/102 → token rejected; 4, 17, 32, 613, 341, 80001, 368 → throttled (until the Business Use Case
/// header's `estimated_time_to_regain_access` when given); 1, 2, `is_transient` and 5xx → retryable;
/// 10, 200–299, 3 → permission refused; 506 → duplicate (409); 100 and the rest → permanent.
public enum FacebookResponseClassifier {
    static let throttled: Set<Int64> = [4, 17, 32, 613, 341, 80001, 368]

    public static func classify(status: Int, headers: [(String, String)], body: Data, now: Date) -> ResponseClassification {
        if (200..<300).contains(status) { return ResponseClassification(kind: .success, message: "OK", replyStatus: status) }
        let error = (try? JSONValue.parse(body))?["error"]
        let message = error?["message"]?.stringValue ?? "HTTP \(status)"
        var code: Int64 = -1
        if case .integer(let value)? = error?["code"] { code = value }
        let transient = error?["is_transient"] == .bool(true)
        switch code {
        case 190, 102:
            return ResponseClassification(kind: .tokenRejected, message: message, replyStatus: 403)
        case _ where throttled.contains(code):
            return ResponseClassification(kind: .rateLimited, message: message, retryAt: regainAccess(headers, now: now), replyStatus: 429)
        case 1, 2:
            return ResponseClassification(kind: .retryable, message: message, replyStatus: 502)
        case _ where transient:
            return ResponseClassification(kind: .retryable, message: message, replyStatus: 502)
        case 3, 10, 200...299:
            return ResponseClassification(kind: .permanent, message: message, replyStatus: 403)
        case 506:
            return ResponseClassification(kind: .permanent, message: message, replyStatus: 409)
        case 100, 1_609_005:
            return ResponseClassification(kind: .permanent, message: message, replyStatus: 400)
        default:
            if let common = ResponseClassification.common(status: status, message: message, headers: headers, now: now) { return common }
            return ResponseClassification(
                kind: .permanent, message: message, replyStatus: ResponseClassification.replyStatus(forProviderStatus: status))
        }
    }

    /// The longest `estimated_time_to_regain_access` (minutes) of `X-Business-Use-Case-Usage`.
    static func regainAccess(_ headers: [(String, String)], now: Date) -> Date? {
        guard let value = headers.first(where: { $0.0.lowercased() == "x-business-use-case-usage" })?.1,
            case .object(let businesses)? = try? JSONValue.parse(Array(value.utf8))
        else { return nil }
        var minutes: Int64 = 0
        for (_, usages) in businesses {
            for usage in usages.arrayValue ?? [] {
                if case .integer(let wait)? = usage["estimated_time_to_regain_access"] { minutes = max(minutes, wait) }
            }
        }
        return minutes > 0 ? now.addingTimeInterval(TimeInterval(minutes * 60)) : nil
    }
}
