import Hummingbird
import NIOCore

/// `GET /metrics`: the relay's counters and timings in Prometheus's text format, for a scraper.
///
/// Not behind an API key, like the health routes: it holds counts and durations by route, provider and
/// outcome, never an identity, a token or a URL; keep it off the public network as you would `/readyz`.
struct MetricsController {
    func addRoutes(to router: Router<RelayRequestContext>) {
        router.get("metrics") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: RelayMetrics.registry.emitToBuffer())))
        }
    }
}
