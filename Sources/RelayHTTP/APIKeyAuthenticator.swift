import Crypto
import Foundation
import Hummingbird
import HummingbirdAuth
import RelayCore
import RelayStore
import Synchronization

/// Checks the HTTP Basic `public_key:private_key` of a Push API client.
///
/// Valid pairs are cached for a minute (keyed by the SHA-256 of the pair, never the key itself),
/// so a busy client costs no database round trip per request; a revoked key stops working within that minute.
struct APIKeyAuthenticator: RouterMiddleware {
    typealias Context = RelayRequestContext
    let store: Store
    let cache: AuthenticationCache

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let basic = request.headers.basic else { throw RefusalWithHeaders.basicAuthentication }
        let fingerprint = Data(SHA256.hash(data: Data("\(basic.username):\(basic.password)".utf8)))
        var context = context
        if let cached = cache.lookup(fingerprint) {
            context.apiKeyID = cached
        } else if let id = try await store.apiKeys.authenticate(publicKey: basic.username, privateKey: basic.password) {
            cache.store(fingerprint, id: id)
            context.apiKeyID = id
        } else {
            throw RefusalWithHeaders.basicAuthentication
        }
        return try await next(request, context)
    }
}

/// Recently verified API keys.
final class AuthenticationCache: Sendable {
    private let entries = Mutex<[Data: (id: Int64, expires: ContinuousClock.Instant)]>([:])
    let lifetime: Duration = .seconds(60)

    func lookup(_ fingerprint: Data) -> Int64? {
        entries.withLock { entries in
            guard let entry = entries[fingerprint], entry.expires > .now else { return nil }
            return entry.id
        }
    }

    func store(_ fingerprint: Data, id: Int64) {
        entries.withLock { entries in
            if entries.count > 10_000 { entries.removeAll() }
            entries[fingerprint] = (id, .now + lifetime)
        }
    }
}
