import Hummingbird
import RelayCore
import RelayStore

/// `GET /healthz` (the process runs) and `GET /readyz` (database reachable, migrations current).
struct HealthController {
    let store: Store

    func addRoutes(to router: Router<RelayRequestContext>) {
        router.get("healthz") { request, _ in
            Envelope.success(resource: request.uri.path, data: ["status": "ok"]).response(retryAfter: nil, eventID: nil)
        }
        router.get("readyz") { request, _ -> Response in
            let current = (try? await MigrationRunner(client: store.client, logger: store.logger).isCurrent()) ?? false
            guard current else {
                throw RelayError.unavailable("The database is unreachable or its migrations are not current")
            }
            return Envelope.success(resource: request.uri.path, data: ["status": "ready"]).response(retryAfter: nil, eventID: nil)
        }
        for path in ["healthz", "readyz"] {
            MethodGuard.refuse(on: RouterPath(path), allowing: ["GET", "HEAD"], in: router)
        }
    }
}
