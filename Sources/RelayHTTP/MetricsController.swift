import Hummingbird
import NIOCore
import RelayStore

/// `GET /metrics`: the relay's counters and timings in Prometheus's text format, for a scraper, followed by
/// the queues' depth read from PostgreSQL (`QueueMetrics`).
///
/// Not behind an API key, like the health routes: it holds counts and durations by route, provider and
/// outcome, never an identity, a token or a URL; keep it off the public network as you would `/readyz`.
struct MetricsController {
    let store: Store

    func addRoutes(to router: Router<RelayRequestContext>) {
        MethodGuard.refuse(on: "metrics", allowing: ["GET", "HEAD"], in: router)
        router.get("metrics") { _, context -> Response in
            var depth: QueueDepth?
            do {
                depth = try await store.queueDepth()
            } catch {
                context.logger.warning("metrics: could not read the queues' depth", metadata: ["error": "\(error)"])
            }
            var body = RelayMetrics.registry.emitToBuffer()
            body += QueueMetrics.render(depth)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }
}
