import Foundation
import Hummingbird
import RelayCore
import RelayStore

/// Turns a stored event into the replies of DESIGN §2: the Push API reply and the event status document.
enum EventRendering {
    static func statusLocation(_ eventID: UUID) -> String { "/push/events/\(eventID.lowercasedString).json" }

    /// The reply to a publish request: the provider result when final, else 202 `queued`.
    static func pushReply(_ status: EventStatus, route: MatchedOperation, resource: String) -> Response {
        let provider = route.operation.provider.rawValue
        let object = route.operation.object
        switch status.state {
        case .succeeded?:
            let data = status.result ?? ["provider": .string(provider), "object": .string(object)]
            return Envelope.success(resource: resource, data: data).response(retryAfter: nil, eventID: status.eventID)
        case .failed?, .indeterminate?, .cancelled?:
            let error = RelayError(
                status: status.errorCode ?? (status.state == .cancelled ? 409 : 502),
                info: status.errorInfo ?? (status.state == .cancelled ? "The request was cancelled before it was published" : "The request failed"))
            return Envelope.error(resource: resource, error).response(retryAfter: nil, eventID: status.eventID)
        default:
            let data: JSONValue = [
                "provider": .string(provider), "object": .string(object),
                "event_id": .string(status.eventID.lowercasedString),
                "status_location": .string(statusLocation(status.eventID)),
            ]
            let info = status.state == .scheduled
                ? "The request is stored and scheduled; follow status_location for its outcome"
                : "The request is stored and queued; follow status_location for its outcome"
            return Envelope.queued(resource: resource, data: data, info: info).response(retryAfter: nil, eventID: status.eventID)
        }
    }

    /// `result.data` of `GET /push/events/<id>.json`: every key present, null where it does not apply yet.
    static func statusDocument(_ status: EventStatus) -> JSONValue {
        let isPublish = status.kind == "publish.requested"
        let state: JSONValue = isPublish ? status.state.map { .string($0.rawValue) } ?? .null : "succeeded"
        var error: JSONValue = .null
        if let code = status.errorCode, let info = status.errorInfo, status.state != .succeeded {
            error = ["code": .integer(Int64(code)), "info": .string(info)]
        }
        let finishedAt = isPublish ? status.finishedAt : status.receivedAt
        return [
            "event_id": .string(status.eventID.lowercasedString),
            "type": .string(status.kind),
            "path": status.path.map(JSONValue.string) ?? .null,
            "provider": status.provider.map(JSONValue.string) ?? .null,
            "identity_token": status.identityToken.map { .string($0.lowercasedString) } ?? .null,
            "state": state,
            "created_at": .string(RFC3339.format(status.receivedAt)),
            "finished_at": finishedAt.map { .string(RFC3339.format($0)) } ?? .null,
            "result": status.state == .succeeded ? status.result ?? .null : .null,
            "error": error,
            "attempts": .array(status.attempts),
            "callbacks": .array(status.callbacks),
        ]
    }
}
