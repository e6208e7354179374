import Foundation
import Hummingbird
import Logging
import RelayCore
import RelayStore

/// Renders every error as a OneAll envelope and logs every request with its outcome.
///
/// Handlers throw `RelayError`; Hummingbird's own errors (no route, body too large) are translated
/// here, so no JSON API of PushRelay ever answers outside the envelope.
struct EnvelopeMiddleware: RouterMiddleware {
    typealias Context = RelayRequestContext
    /// A path longer than this is logged as its start and its length (the head of a request may hold ~80 kB).
    static let loggedPathLimit = 1024
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let resource = request.uri.path
        let response: Response
        let failure: RelayError?
        do {
            response = try await next(request, context)
            failure = nil
        } catch {
            let relayError = relayError(for: error, request: request)
            var reply = Envelope.error(resource: resource, relayError).response(retryAfter: relayError.retryAfter, eventID: nil)
            if let refusal = error as? RefusalWithHeaders { reply.headers.append(contentsOf: refusal.headers) }
            response = reply
            failure = relayError
        }
        let elapsed = ContinuousClock.now - started
        var metadata: Logger.Metadata = [
            "method": "\(request.method)", "path": "\(RelayError.excerpt(resource, limit: Self.loggedPathLimit))", "status": "\(response.status.code)",
            "duration_ms": "\(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)",
        ]
        if let eventID = response.headers[.pushRelayEventID] { metadata["event_id"] = "\(eventID)" }
        if let failure { metadata["info"] = "\(failure.info)" }
        let level: Logger.Level = response.status.code >= 500 ? .error : response.status.code >= 400 ? .notice : .info
        logger.log(level: level, "request", metadata: metadata)
        return response
    }

    func relayError(for error: any Error, request: Request) -> RelayError {
        switch error {
        case let error as RelayError: return error
        case let refusal as RefusalWithHeaders: return refusal.error
        case let error as HTTPError: return Self.translate(error, request: request)
        case let error where DatabaseUnavailable.matches(error):
            logger.warning(
                "database unavailable",
                metadata: ["method": "\(request.method)", "path": "\(RelayError.excerpt(request.uri.path, limit: Self.loggedPathLimit))", "error": "\(String(reflecting: error))"])
            return .unavailable("The database is unavailable right now; retry shortly", retryAfter: 1)
        default:
            logger.error(
                "unexpected error",
                metadata: ["method": "\(request.method)", "path": "\(RelayError.excerpt(request.uri.path, limit: Self.loggedPathLimit))", "error": "\(String(reflecting: error))"])
            return .internalError()
        }
    }

    static func translate(_ error: HTTPError, request: Request) -> RelayError {
        switch error.status.code {
        case 404:
            return .notFound("No resource at \(request.method) \(RelayError.excerpt(request.uri.path))")
        case 405:
            return .methodNotAllowed("\(request.method) is not allowed on \(RelayError.excerpt(request.uri.path))")
        case 413:
            return .payloadTooLarge(limit: RelayRequestContext.bodyLimit)
        default:
            return RelayError(status: Int(error.status.code), info: error.body ?? error.status.reasonPhrase)
        }
    }
}
