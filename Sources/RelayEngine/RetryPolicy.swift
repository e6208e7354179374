import Foundation
import RelayCore
import RelayStore

/// Decides what becomes of a job after a try — a pure function, tested without a network.
///
/// A try is retried only when it provably did not publish (no connection, 408/429/5xx) and attempts
/// remain; the wait is exponential with ±20 % jitter, or the provider's own reset time when it gave one.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: TimeInterval = 2
    public var maxDelay: TimeInterval = 600

    public init(maxAttempts: Int) {
        self.maxAttempts = maxAttempts
    }

    /// The next state for a job whose try number `tryNumber` (1-based) ended with `outcome`.
    /// `jitter` is a number in 0...1 (random in production, fixed in tests).
    public func transition(after outcome: PublishOutcome, tryNumber: Int, now: Date, jitter: Double) -> JobTransition {
        switch outcome {
        case .succeeded(let data): return .succeeded(data)
        case .failed(let error): return .failed(error)
        case .indeterminate(let error): return .indeterminate(error)
        case .tokenRejected(let error): return .failed(error)
        case .retry(let error, let notBefore, let rateLimited):
            guard tryNumber < maxAttempts else {
                return .failed(
                    RelayError(
                        status: error.status, info: "\(error.info) (gave up after \(tryNumber) attempts)",
                        retryAfter: error.retryAfter))
            }
            let backoff = min(maxDelay, baseDelay * pow(2, Double(tryNumber - 1))) * (0.8 + 0.4 * jitter)
            let runAt = max(notBefore ?? now, now.addingTimeInterval(notBefore == nil ? backoff : 0))
            return .requeue(runAt: runAt, lastError: error, pausesIdentity: rateLimited)
        }
    }
}
