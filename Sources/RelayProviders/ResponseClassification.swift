import Foundation
import RelayCore

/// What a provider's HTTP answer means for the relay — the pure decision behind every retry.
///
/// Each provider has its own classifier (a pure function of status, headers and body, table-tested);
/// the engine only ever sees this value.
public struct ResponseClassification: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case success
        /// The provider did not act (5xx, 408); try again, not before `retryAt` if set.
        case retryable
        /// Throttled; try again at `retryAt` (the provider's reset) or after a backoff.
        case rateLimited
        /// The access token was refused: refresh it or ask the user to reconnect.
        case tokenRejected
        /// Refused for good; `replyStatus` says how we answer (OneAll meaning).
        case permanent
    }

    public var kind: Kind
    /// The provider's own explanation, without secrets.
    public var message: String
    public var retryAt: Date?
    /// The HTTP status PushRelay answers with if this ends the job.
    public var replyStatus: Int

    public init(kind: Kind, message: String, retryAt: Date? = nil, replyStatus: Int) {
        self.kind = kind
        self.message = message
        self.retryAt = retryAt
        self.replyStatus = replyStatus
    }

    public var attemptOutcome: ProviderAttempt.Outcome {
        switch kind {
        case .success: .succeeded
        case .retryable: .retryable
        case .rateLimited: .rateLimited
        case .tokenRejected: .tokenRejected
        case .permanent: .permanent
        }
    }

    /// The outcome of a try that ends on this answer.
    public func outcome(provider: Provider) -> PublishOutcome {
        let error = RelayError(
            status: replyStatus, info: "\(provider.displayName) refused the request: \(message)",
            retryAfter: retryAt.map { max(1, Int($0.timeIntervalSinceNow.rounded(.up))) })
        switch kind {
        case .success: return .succeeded([:])
        case .retryable: return .retry(error, notBefore: retryAt, rateLimited: false)
        case .rateLimited: return .retry(error, notBefore: retryAt, rateLimited: true)
        case .tokenRejected: return .tokenRejected(error)
        case .permanent: return .failed(error)
        }
    }

    /// What most providers' statuses mean alike: 2xx success, 401 token rejected, 429 rate limited (until
    /// `rateLimitReset`, else `Retry-After`), 408/5xx retryable. Nil for the rest, which each provider reads its own way.
    public static func common(
        status: Int, message: String, headers: [(String, String)], rateLimitReset: Date? = nil, now: Date
    ) -> ResponseClassification? {
        switch status {
        case 200..<300:
            return ResponseClassification(kind: .success, message: "OK", replyStatus: status)
        case 401:
            return ResponseClassification(kind: .tokenRejected, message: message, replyStatus: 403)
        case 429:
            return ResponseClassification(
                kind: .rateLimited, message: message, retryAt: rateLimitReset ?? retryAfter(headers, now: now), replyStatus: 429)
        case 408, 500..<600:
            return ResponseClassification(kind: .retryable, message: message, retryAt: retryAfter(headers, now: now), replyStatus: 502)
        default:
            return nil
        }
    }

    /// `Retry-After` in seconds or as an HTTP date.
    public static func retryAfter(_ headers: [(String, String)], now: Date) -> Date? {
        guard let value = headers.first(where: { $0.0.lowercased() == "retry-after" })?.1.trimmingCharacters(in: .whitespaces)
        else { return nil }
        if let seconds = Int(value) { return now.addingTimeInterval(TimeInterval(max(0, seconds))) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value)
    }

    /// The status we answer with when a provider's 4xx ends the job.
    public static func replyStatus(forProviderStatus status: Int) -> Int {
        switch status {
        case 400, 413, 415, 422: 400
        case 401, 403: 403
        case 404, 410: 404
        case 409: 409
        case 429: 429
        default: status >= 500 ? 502 : 400
        }
    }
}
