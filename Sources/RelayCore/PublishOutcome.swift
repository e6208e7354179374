import Foundation

/// How a try of a publish job ended, as decided by the adapter's classification.
///
/// The engine turns it into the job's next state: final (succeeded, failed, indeterminate)
/// or back to the queue at a later time.
public enum PublishOutcome: Sendable, Hashable {
    /// Published: the OneAll `result.data`.
    case succeeded(JSONValue)
    /// Will not publish; `status` is the HTTP status we answer with (OneAll meaning).
    case failed(RelayError)
    /// Did not publish this time and may be tried again, not before `notBefore` when the provider said so.
    case retry(RelayError, notBefore: Date?, rateLimited: Bool)
    /// The provider refused the token: refresh it or mark the identity `needs_reconnect`.
    case tokenRejected(RelayError)
    /// The request reached the provider but its answer was lost: it may have published. Never retried automatically.
    case indeterminate(RelayError)
}
