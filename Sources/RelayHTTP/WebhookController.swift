import Foundation
import Hummingbird
import RelayCore
import RelayEngine
import RelayStore

/// Inbound webhooks (DESIGN §3), signed with Standard Webhooks and deduplicated by `webhook-id`.
///
/// Every answer is sent after the commit: 202 means the change is durable.
struct WebhookController {
    let store: Store
    let intake: PublishIntake
    let verifier: StandardWebhooks

    func addRoutes(to router: Router<RelayRequestContext>) {
        router.post("webhooks/identity-connected", use: identityConnected)
        router.post("webhooks/identity-disconnected", use: identityDisconnected)
        router.post("webhooks/publish-requested", use: publishRequested)
        for name in ["identity-connected", "identity-disconnected", "publish-requested"] {
            MethodGuard.refuse(on: RouterPath("webhooks/\(name)"), allowing: ["POST"], in: router)
        }
    }

    /// The verified body and its `webhook-id`.
    func verified(_ request: Request, context: RelayRequestContext) async throws -> (body: JSONValue, webhookID: String) {
        let bytes = try await RequestBodyReader.bytes(request, context: context)
        let id = request.headers[.webhookID]
        try verifier.verify(
            id: id, timestamp: request.headers[.webhookTimestamp], signature: request.headers[.webhookSignature],
            body: bytes.readableBytesView, now: Date())
        try DeduplicationKey.check(id!, header: "webhook-id")
        return (try JSONValue.parseStorable(bytes.readableBytesView), id!)
    }

    @Sendable func identityConnected(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let (body, webhookID) = try await verified(request, context: context)
        let connection = try IdentityConnection.parse(body)
        let change = try await store.identities.connect(connection, rawBody: body, webhookID: webhookID)
        return reply(change, state: "connected", request: request)
    }

    @Sendable func identityDisconnected(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let (body, webhookID) = try await verified(request, context: context)
        let token = try WebhookBody.identityToken(try WebhookBody.data(body, type: "identity.disconnected"))
        let change = try await store.identities.disconnect(token, rawBody: body, webhookID: webhookID)
        return reply(change, state: "disconnected", request: request)
    }

    @Sendable func publishRequested(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let (body, webhookID) = try await verified(request, context: context)
        let data = try WebhookBody.data(body, type: "publish.requested")
        let identityToken = try data.requiredString("identity_token")
        var path = try data.requiredString("path").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if path.hasSuffix(".json") { path = String(path.dropLast(5)) }
        let route = try PublishIntake.route(path)
        guard let inner = data.value["request"], inner != .null else { throw RelayError.badRequest("data.request is required") }
        let accepted = try await intake.accept(
            route: route, body: ["request": inner], identityToken: identityToken, apiKeyID: nil,
            idempotencyKey: "webhook:\(webhookID)", source: "webhook", mode: .queue)
        return EventRendering.pushReply(accepted.status, route: route, resource: request.uri.path)
    }

    func reply(_ change: IdentityChange, state: String, request: Request) -> Response {
        let data: JSONValue = [
            "event_id": .string(change.eventID.lowercasedString),
            "identity_token": .string(change.identityToken.lowercasedString),
            "provider": .string(change.provider.rawValue), "state": .string(state),
        ]
        let info = change.isReplay ? "This webhook-id was already processed; nothing was changed" : "The webhook has been processed"
        return Envelope.success(resource: request.uri.path, data: data, code: 202, info: info)
            .response(retryAfter: nil, eventID: change.eventID)
    }
}
