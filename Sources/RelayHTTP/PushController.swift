import Foundation
import Hummingbird
import NIOCore
import RelayCore
import RelayEngine
import RelayStore

/// The OneAll-compatible Push API: `POST /push/identities/<token>/<route>.json`.
struct PushController {
    let store: Store
    let intake: PublishIntake
    let authenticator: APIKeyAuthenticator

    func addRoutes(to router: Router<RelayRequestContext>) {
        let push = router.group("push").add(middleware: authenticator)
        push.post("identities/{identity_token}/**", use: publish)
        MethodGuard.refuse(on: "push/identities/{identity_token}/**", allowing: ["POST"], in: router)
    }

    @Sendable func publish(_ request: Request, context: RelayRequestContext) async throws -> Response {
        let identityToken = context.parameters.get("identity_token") ?? ""
        let tail = context.parameters.getCatchAll().joined(separator: "/")
        guard tail.hasSuffix(".json") else {
            throw RelayError.notFound("Unknown Push API route \(RelayError.excerpt(tail)); routes end in .json")
        }
        let route = try PublishIntake.route(String(tail.dropLast(5)))
        let idempotencyKey = request.headers[.idempotencyKey]
        if let idempotencyKey { try DeduplicationKey.check(idempotencyKey, header: "Idempotency-Key") }
        let body = try await RequestBodyReader.json(request, context: context)
        let accepted = try await intake.accept(
            route: route, body: body, identityToken: identityToken, apiKeyID: context.apiKeyID,
            idempotencyKey: idempotencyKey.map { "push:\(context.apiKeyID ?? 0):\($0)" },
            source: "push_api", mode: Self.mode(request.headers[values: .prefer]))
        return EventRendering.pushReply(accepted.status, route: route, resource: request.uri.path)
    }

    /// RFC 7240: `respond-async` queues, `wait` (with or without a value) waits for the outcome.
    static func mode(_ preferences: [String]) -> PublishIntake.Mode? {
        // Trimmed by hand: Foundation's `trimmingCharacters` bridges through NSString (1.3 % of a request).
        let tokens = preferences.flatMap { $0.split(separator: ",") }.map { preference in
            preference.prefix { $0 != "=" }.filter { $0 != " " && $0 != "\t" }.lowercased()
        }
        if tokens.contains("respond-async") { return .queue }
        if tokens.contains("wait") { return .wait }
        return nil
    }
}

/// Reads request bodies within the 1 MiB limit and parses them as JSON whatever the Content-Type says.
enum RequestBodyReader {
    static func bytes(_ request: Request, context: RelayRequestContext) async throws -> ByteBuffer {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > RelayRequestContext.bodyLimit {
            throw RelayError.payloadTooLarge(limit: RelayRequestContext.bodyLimit)
        }
        do {
            return try await request.body.collect(upTo: RelayRequestContext.bodyLimit)
        } catch is NIOTooManyBytesError {
            // A body sent without Content-Length (chunked) is only found too large while it is read.
            throw RelayError.payloadTooLarge(limit: RelayRequestContext.bodyLimit)
        }
    }

    static func json(_ request: Request, context: RelayRequestContext) async throws -> JSONValue {
        try JSONValue.parseStorable(try await bytes(request, context: context).readableBytesView)
    }
}

/// Answers 405 in the envelope for known paths called with a method they do not take, with the `Allow`
/// header RFC 9110 §15.5.6 asks of a 405 (the methods the path takes).
enum MethodGuard {
    /// The methods a route of PushRelay may take (HEAD comes with GET, `Router.autoGenerateHeadEndpoints`).
    static let methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    /// Refuses every method of `methods` that `allowed` does not hold on `path`.
    static func refuse(on path: RouterPath, allowing allowed: [String], in router: Router<RelayRequestContext>) {
        let allow = allowed.joined(separator: ", ")
        for name in methods where !allowed.contains(name) {
            guard let method = HTTPRequest.Method(name) else { continue }
            router.on(path, method: method) { request, _ -> Response in
                throw RefusalWithHeaders(
                    error: .methodNotAllowed("\(request.method) is not allowed on \(RelayError.excerpt(request.uri.path)); it takes \(allow)"),
                    headers: [.allow: allow])
            }
        }
    }
}

import HTTPTypes
import NIOCore
