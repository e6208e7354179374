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

    private static let bootstrapped: Void = MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

    /// Makes swift-metrics write to `registry`; later calls do nothing.
    public static func bootstrap() {
        _ = bootstrapped
    }
}
