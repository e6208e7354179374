import Prometheus
import RelayStore

/// The queues' gauges of `GET /metrics`, read from PostgreSQL at each scrape (`Store.queueDepth()`).
///
/// They live in a registry of their own, made for each scrape: a value that could not be read is then
/// absent rather than the last one seen, and `pushrelay_database_up` says 0. The process's own series
/// (`RelayMetrics.registry`) do not depend on the database.
enum QueueMetrics {
    /// The gauges' text for `depth`, or only `pushrelay_database_up 0` when it could not be read.
    static func render(_ depth: QueueDepth?) -> [UInt8] {
        let registry = PrometheusCollectorRegistry()
        func gauge(_ name: String, labels: [(String, String)] = [], help: String) -> Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
        }
        gauge("pushrelay_database_up", help: "1 when this scrape could read the queues from PostgreSQL, else 0").set(to: depth == nil ? 0 : 1)
        guard let depth else { return registry.emitToBuffer() }
        let jobsHelp = "Publish jobs waiting (scheduled, queued) or leased to a worker (running), in the whole database"
        for (state, count) in [("scheduled", depth.jobsScheduled), ("queued", depth.jobsQueued), ("running", depth.jobsRunning)] {
            gauge("pushrelay_queue_jobs", labels: [("state", state)], help: jobsHelp).set(to: Double(count))
        }
        gauge("pushrelay_queue_due_jobs", help: "Queued or scheduled publish jobs whose time has come")
            .set(to: Double(depth.jobsDue))
        gauge(
            "pushrelay_queue_oldest_due_seconds", help: "How long the oldest due publish job has waited for a worker (0: none)"
        ).set(to: depth.oldestDueJobSeconds)
        let callbacksHelp = "Callbacks waiting for a delivery try (pending) or being delivered (delivering)"
        for (state, count) in [("pending", depth.callbacksPending), ("delivering", depth.callbacksDelivering)] {
            gauge("pushrelay_callbacks", labels: [("state", state)], help: callbacksHelp).set(to: Double(count))
        }
        gauge(
            "pushrelay_callbacks_oldest_due_seconds", help: "How long the oldest due callback has waited for a delivery try (0: none)"
        ).set(to: depth.oldestDueCallbackSeconds)
        return registry.emitToBuffer()
    }
}
