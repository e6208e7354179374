import Foundation
import Hummingbird
import RelayCore
import RelayProviders
import RelayStore

/// `POST/GET /subscriptions.json`, `DELETE /subscriptions/<id>.json` (DESIGN §4).
struct SubscriptionController {
    let store: Store
    let authenticator: APIKeyAuthenticator
    let policy: AddressPolicy

    func addRoutes(to router: Router<RelayRequestContext>) {
        let group = router.group("subscriptions").add(middleware: authenticator)
        group.delete("{subscription_id}", use: delete)
        router.group("subscriptions.json").add(middleware: authenticator).post(use: create).get(use: list)
        MethodGuard.refuse(on: "subscriptions.json", allowing: ["GET", "HEAD", "POST"], in: router)
        MethodGuard.refuse(on: "subscriptions/{subscription_id}", allowing: ["DELETE"], in: router)
    }

    @Sendable func create(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let body = try await RequestBodyReader.json(request, context: context)
        guard case .object = body else { throw RelayError.badRequest("The body must be a JSON object {\"url\":…,\"events\":[…]}") }
        let reader = FieldReader(body, path: "")
        let url = try reader.requiredURL("url")
        guard let parsed = URL(string: url) else { throw RelayError.badRequest("url must be an absolute http or https URL") }
        try await policy.check(parsed, field: "url")
        guard case .array(let items)? = reader.present("events") else {
            throw RelayError.badRequest("events is required: a list of \(SubscriptionRepository.eventTypes.joined(separator: ", "))")
        }
        var events: [String] = []
        for item in items {
            guard let name = item.stringValue, SubscriptionRepository.eventTypes.contains(name) else {
                throw RelayError.badRequest("events may only hold \(SubscriptionRepository.eventTypes.joined(separator: ", ")), got \(RelayError.excerpt(item.serialized()))")
            }
            if !events.contains(name) { events.append(name) }
        }
        let (subscription, secret) = try await store.subscriptions.create(
            url: url, events: events, description: try reader.string("description") ?? "", apiKeyID: context.apiKeyID)
        var data = Self.render(subscription)
        data = data.setting("secret", to: .string(secret))
        return Envelope.success(resource: request.uri.path, data: data, code: 201, info: "The subscription is created; its secret is shown only now")
            .response(retryAfter: nil, eventID: nil)
    }

    @Sendable func list(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let subscriptions = try await store.subscriptions.list()
        return Envelope.success(resource: request.uri.path, data: ["subscriptions": .array(subscriptions.map(Self.render))])
            .response(retryAfter: nil, eventID: nil)
    }

    @Sendable func delete(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let segment = context.parameters.get("subscription_id") ?? ""
        guard segment.hasSuffix(".json"), let id = UUID(text: String(segment.dropLast(5))) else {
            throw RelayError.notFound("No subscription at \(RelayError.excerpt(request.uri.path)); subscription ids are UUIDs")
        }
        guard try await store.subscriptions.disable(id, reason: "deleted through the API") else {
            throw RelayError.notFound("Unknown subscription \(id.lowercasedString)")
        }
        return Envelope.success(resource: request.uri.path, data: ["id": .string(id.lowercasedString), "state": "disabled"])
            .response(retryAfter: nil, eventID: nil)
    }

    static func render(_ subscription: Subscription) -> JSONValue {
        [
            "id": .string(subscription.id.lowercasedString), "url": .string(subscription.url),
            "events": .array(subscription.events.map(JSONValue.string)), "description": .string(subscription.description),
            "state": .string(subscription.state), "created_at": .string(RFC3339.format(subscription.createdAt)),
        ]
    }
}
