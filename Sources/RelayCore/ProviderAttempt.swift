import Foundation

/// One HTTP call made to a provider, as recorded in `provider_attempts`.
///
/// Adapters produce these for every request they send; no field ever holds a token
/// (URLs are recorded without query strings, bodies are summarised by the adapter).
public struct ProviderAttempt: Sendable, Hashable {
    /// How a call ended, from the relay's point of view; stored as readable text.
    public enum Outcome: String, Sendable, Codable {
        case succeeded
        /// 5xx or 408: the provider did not act; safe to try again.
        case retryable
        /// 429 or a provider rate-limit code.
        case rateLimited = "rate_limited"
        /// The provider refused the access token.
        case tokenRejected = "token_rejected"
        /// Any other refusal: trying again would not help.
        case permanent
        /// No connection: nothing was sent.
        case unreachable
        /// The request was sent but no answer came back: the provider may have acted.
        case answerLost = "answer_lost"
    }

    public var step: String
    public var method: String
    public var url: String
    public var requestSummary: JSONValue
    public var httpStatus: Int?
    public var outcome: Outcome
    public var responseExcerpt: String?
    public var error: String?
    public var startedAt: Date
    public var durationMilliseconds: Double

    public init(
        step: String, method: String, url: String, requestSummary: JSONValue = [:], httpStatus: Int?,
        outcome: Outcome, responseExcerpt: String?, error: String? = nil, startedAt: Date, durationMilliseconds: Double
    ) {
        self.step = step
        self.method = method
        self.url = url
        self.requestSummary = requestSummary
        self.httpStatus = httpStatus
        self.outcome = outcome
        self.responseExcerpt = responseExcerpt
        self.error = error
        self.startedAt = startedAt
        self.durationMilliseconds = durationMilliseconds
    }
}
