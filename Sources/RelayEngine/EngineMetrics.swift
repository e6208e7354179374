import Metrics
import RelayCore
import RelayStore

/// The engine's counters and timings for `GET /metrics`: what an operator graphs and alerts on without
/// querying the tables — tries by outcome, provider calls by outcome and duration, callback deliveries by
/// result.
///
/// Recorded through swift-metrics, so they go to whatever backend the process bootstrapped
/// (`RelayMetrics`, Prometheus, in the relay) and cost nothing where none was. Every label has a small,
/// fixed set of values: no identity, event or URL is ever a label.
enum EngineMetrics {
    /// One try of a publish job ended (`outcome`: succeeded, failed, indeterminate or retry).
    static func tryEnded(provider: Provider, transition: JobTransition) {
        let outcome =
            switch transition {
            case .succeeded: "succeeded"
            case .failed: "failed"
            case .indeterminate: "indeterminate"
            case .requeue: "retry"
            }
        Counter(label: "pushrelay_publish_tries_total", dimensions: [("provider", provider.rawValue), ("outcome", outcome)]).increment()
    }

    /// The HTTP calls a try made to its provider, each by its outcome (`ProviderAttempt.Outcome`).
    static func providerCalls(_ attempts: [ProviderAttempt], provider: Provider) {
        for attempt in attempts {
            Timer(
                label: "pushrelay_provider_request_duration_seconds",
                dimensions: [("provider", provider.rawValue), ("outcome", attempt.outcome.rawValue)],
                preferredDisplayUnit: .seconds
            ).recordNanoseconds(Int64(attempt.durationMilliseconds * 1_000_000))
        }
    }

    /// One delivery try of a callback ended (`result`: delivered, retry or dead).
    static func callbackDelivery(_ next: CallbackDelivery.Next) {
        let result =
            switch next {
            case .delivered: "delivered"
            case .retry: "retry"
            case .dead: "dead"
            }
        Counter(label: "pushrelay_callback_deliveries_total", dimensions: [("result", result)]).increment()
    }
}
