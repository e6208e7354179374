import Hummingbird
import Metrics
import Synchronization

/// Counts and times every answer by route, method and status, for `GET /metrics`
/// (`http_server_requests_total`, `http_server_request_duration_seconds`).
///
/// In place of Hummingbird's `MetricsMiddleware`, which cost the relay ~10 µs of CPU per request (8 % of
/// an ingest request, measured in BENCHMARKS.md): it wraps each reply's body to time its writing, keeps
/// a gauge of requests in flight and an error counter, and looks its series up under a lock in every
/// step. This one makes the series of a route, method and status once, and records each answer with one
/// lookup, an atomic increment and one histogram update when the handler returns (the replies of this API
/// are small buffers, written right after). It runs outside `EnvelopeMiddleware`, so refusals are counted
/// by the status their envelope carries.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let series = RequestSeries()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            series.record(route: context.endpointPath, method: request.method, status: response.status.code, since: started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            series.record(route: context.endpointPath, method: request.method, status: status, since: started)
            throw error
        }
    }
}

/// The series of `RequestMetricsMiddleware`, made once per route, method and status.
final class RequestSeries: Sendable {
    struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    /// The metrics of one route, method and status.
    struct Series: Sendable {
        let requests: Counter
        let duration: Timer

        init(_ key: Key) {
            let dimensions = [
                ("http_route", key.route), ("http_request_method", key.method.rawValue),
                ("http_response_status_code", String(key.status)),
            ]
            requests = Counter(label: "http_server_requests_total", dimensions: dimensions)
            duration = Timer(label: "http_server_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        }
    }

    private let all = Mutex<[Key: Series]>([:])

    /// `route` is the matched route's pattern (`/push/identities/{identity_token}/**`), never the path
    /// itself: the label keeps a small set of values. Paths that match no route share Hummingbird's
    /// `NotFound`; a request answered before the router looked (none today) would count as `unmatched`.
    func record(route: String?, method: HTTPRequest.Method, status: Int, since started: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - started
        let key = Key(route: route ?? "unmatched", method: method, status: status)
        let series = all.withLock { all in
            if let found = all[key] { return found }
            let made = Series(key)
            all[key] = made
            return made
        }
        series.requests.increment()
        series.duration.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
