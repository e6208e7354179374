import Foundation
import Hummingbird
import RelayCore
import RelayEngine
import RelayStore

/// The events of the Push API: read one (optionally long-polling until it is final), cancel one that
/// has not started, retry one that failed or ended indeterminate.
struct EventController {
    let store: Store
    let intake: PublishIntake
    let authenticator: APIKeyAuthenticator

    func addRoutes(to router: Router<RelayRequestContext>) {
        let events = router.group("push/events").add(middleware: authenticator)
        events.get("{event_id}", use: show)
        events.delete("{event_id}", use: cancel)
        events.post("{event_id}/retry.json", use: retry)
        events.post("{event_id}/replay.json", use: replay)
        MethodGuard.refuse(on: "push/events/{event_id}", allowing: ["GET", "HEAD", "DELETE"], in: router)
        MethodGuard.refuse(on: "push/events/{event_id}/retry.json", allowing: ["POST"], in: router)
        MethodGuard.refuse(on: "push/events/{event_id}/replay.json", allowing: ["POST"], in: router)
    }

    @Sendable func show(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let id = try Self.eventID(context.parameters.get("event_id") ?? "", suffix: ".json", path: request.uri.path)
        var wait: Duration = .zero
        if let text = request.uri.queryParameters.get("wait") {
            guard let seconds = Double(text), seconds >= 0, seconds <= 60 else {
                throw RelayError.badRequest("wait must be a number of seconds from 0 to 60")
            }
            wait = .milliseconds(Int(seconds * 1000))
        }
        return try await document(id, resource: request.uri.path, waitingUpTo: wait)
    }

    /// `DELETE /push/events/<id>.json`: a scheduled or queued publish is cancelled and never sent.
    @Sendable func cancel(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let id = try Self.eventID(context.parameters.get("event_id") ?? "", suffix: ".json", path: request.uri.path)
        switch try await store.jobs.cancel(id) {
        case .done: return try await document(id, resource: request.uri.path, waitingUpTo: .zero)
        case .refused(let state):
            throw RelayError.conflict("The event is \(state.rawValue); only scheduled or queued publish requests can be cancelled")
        case .unknown: throw RelayError.notFound("Unknown publish event \(id.lowercasedString)")
        }
    }

    /// `POST /push/events/<id>/retry.json`: a failed or indeterminate publish is queued again, knowingly.
    @Sendable func retry(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let id = try Self.eventID(context.parameters.get("event_id") ?? "", suffix: "", path: request.uri.path)
        switch try await store.jobs.retry(id) {
        case .done:
            guard let status = try await store.events.status(id) else { throw RelayError.notFound("Unknown event \(id)") }
            return Envelope.queued(
                resource: request.uri.path, data: EventRendering.statusDocument(status),
                info: "The request is queued again; an indeterminate one may be published twice"
            ).response(retryAfter: nil, eventID: id)
        case .refused(let state):
            throw RelayError.conflict("The event is \(state.rawValue); only failed or indeterminate publish requests can be retried")
        case .unknown: throw RelayError.notFound("Unknown publish event \(id.lowercasedString)")
        }
    }

    /// `POST /push/events/<id>/replay.json`: the event's callbacks are sent again, with their original `webhook-id`s.
    @Sendable func replay(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let id = try Self.eventID(context.parameters.get("event_id") ?? "", suffix: "", path: request.uri.path)
        guard try await store.events.status(id) != nil else { throw RelayError.notFound("Unknown event \(id.lowercasedString)") }
        let count = try await store.callbacks.replay(id)
        guard let status = try await store.events.status(id) else { throw RelayError.notFound("Unknown event \(id.lowercasedString)") }
        return Envelope.queued(
            resource: request.uri.path, data: EventRendering.statusDocument(status),
            info: count == 0 ? "The event has no callbacks to send" : "\(count) callback(s) will be sent again"
        ).response(retryAfter: nil, eventID: id)
    }

    func document(_ id: UUID, resource: String, waitingUpTo wait: Duration) async throws -> Response {
        guard let status = try await intake.status(id, waitingUpTo: wait) else {
            throw RelayError.notFound("Unknown event \(id.lowercasedString)")
        }
        return Envelope.success(resource: resource, data: EventRendering.statusDocument(status)).response(retryAfter: nil, eventID: id)
    }

    static func eventID(_ segment: String, suffix: String, path: String) throws(RelayError) -> UUID {
        guard segment.hasSuffix(suffix), let id = UUID(text: String(segment.dropLast(suffix.count))) else {
            throw .notFound("No event at \(RelayError.excerpt(path)); event ids are UUIDs: /push/events/<event_id>.json")
        }
        return id
    }
}
