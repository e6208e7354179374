import Foundation
import Hummingbird
import RelayCore
import RelayStore

/// `GET /identities/<token>.json`: an identity, its accounts and its state — never a credential.
struct IdentityController {
    let store: Store
    let authenticator: APIKeyAuthenticator

    func addRoutes(to router: Router<RelayRequestContext>) {
        router.group("identities").add(middleware: authenticator).get("{identity_token}", use: show)
        MethodGuard.refuse(on: "identities/{identity_token}", allowing: ["GET", "HEAD"], in: router)
    }

    @Sendable func show(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let file = context.parameters.get("identity_token") ?? ""
        let text = file.hasSuffix(".json") ? String(file.dropLast(5)) : file
        guard file.hasSuffix(".json"), let token = UUID(text: text), let identity = try await store.identities.find(token)
        else {
            throw RelayError.notFound("Unknown identity_token \(RelayError.excerpt(text))")
        }
        let data: JSONValue = [
            "identity_token": .string(identity.identityToken.lowercasedString),
            "user_token": identity.userToken.map(JSONValue.string) ?? .null,
            "provider": .string(identity.provider.rawValue),
            "provider_user_id": .string(identity.providerUserID),
            "display_name": .string(identity.displayName),
            "state": .string(identity.state),
            "scope": identity.scope.map(JSONValue.string) ?? .null,
            "token_expires_at": identity.tokenExpiresAt.map { .string(RFC3339.format($0)) } ?? .null,
            "connected_at": .string(RFC3339.format(identity.connectedAt)),
            "updated_at": .string(RFC3339.format(identity.updatedAt)),
            "accounts": .array(
                identity.accounts.map {
                    ["kind": .string($0.kind), "id": .string($0.id), "name": .string($0.name), "has_access_token": .bool($0.hasAccessToken)]
                }),
        ]
        return Envelope.success(resource: request.uri.path, data: data).response(retryAfter: nil, eventID: nil)
    }
}
