import Metrics
import Prometheus

/// The process's metrics: one Prometheus registry that swift-metrics writes to, shown by `GET /metrics`.
///
/// swift-metrics has one backend per process, so the relay bootstraps it once, whoever starts it first
/// (`pushrelay serve`, or the tests' relay); the HTTP layer's request metrics (`RequestMetricsMiddleware`)
/// and the engine's (`EngineMetrics`) then land in `registry`. Their names and labels are Prometheus
/// names already (`pushrelay_publish_tries_total{provider,outcome}`): nothing is renamed on the way.
public enum RelayMetrics {
    /// What `GET /metrics` renders.
    public static let registry = PrometheusCollectorRegistry()

    private static let bootstrapped: Void = {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(factory)
    }()

    /// The buckets of every duration histogram: from 1 ms (an answer of the API is a few) to 5 minutes (a
    /// large video's upload to its provider); the package's default starts at 5 ms and stops at 10 s.
    static let durationBuckets: [Duration] = [
        .milliseconds(1), .microseconds(2500), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .microseconds(2_500_000), .seconds(5),
        .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    /// Makes swift-metrics write to `registry`; later calls do nothing.
    public static func bootstrap() {
        _ = bootstrapped
    }
}
