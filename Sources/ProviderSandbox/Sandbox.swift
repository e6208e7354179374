import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import RelayCore
import ServiceLifecycle
import Synchronization

/// A stand-in for the social networks, which cannot be reached from tests: a real HTTP server that
/// implements the providers' API contracts (DESIGN §7, providers.md), records what it receives and
/// can be told to fail.
///
/// Each provider lives under its own base URL (`http://host:port/x` for X); the adapters append the
/// documented paths as they would to the real origin. `/media/…` serves generated media files and
/// `/_sandbox/…` exposes the recordings and the fault script over HTTP for users' integration tests.
public final class ProviderSandbox: Sendable {
    public let recorder = Recorder()
    public let faults = FaultScript()
    let x = XSandbox()
    let pinterest = PinterestSandbox()
    let linkedin = LinkedInSandbox()
    let youtube = YouTubeSandbox()
    let facebook = FacebookSandbox()
    let logger: Logger
    private let server = Mutex<(group: ServiceGroup?, port: Int?)>((nil, nil))

    /// The path prefix of each provider under the sandbox's origin.
    public static let prefixes: [Provider: String] = [
        .twitter: "x", .facebook: "facebook", .linkedin: "linkedin", .pinterest: "pinterest", .youtube: "youtube",
    ]

    public init(logger: Logger) {
        self.logger = logger
    }

    /// The origin the sandbox listens on, once started.
    public var origin: String {
        "http://127.0.0.1:\(server.withLock { $0.port } ?? 0)"
    }

    /// The base URL to give a provider's adapter (`PUSHRELAY_<P>_API_URL`).
    public func baseURL(for provider: Provider) -> String {
        "\(origin)/\(Self.prefixes[provider]!)"
    }

    /// Points every adapter and token refresh at this sandbox, with a sandbox OAuth client where none is configured.
    public func configure(_ configuration: inout Configuration) {
        for provider in Provider.allCases {
            configuration.providers[provider]!.apiURL = baseURL(for: provider)
            configuration.providers[provider]!.oauthURL = oauthURL(for: provider)
            if configuration.providers[provider]!.clientID == nil {
                configuration.providers[provider]!.clientID = "sandbox-client"
                configuration.providers[provider]!.clientSecret = "sandbox-secret"
            }
        }
    }

    /// The token endpoint to give a provider's refresher (`PUSHRELAY_<P>_OAUTH_URL`).
    public func oauthURL(for provider: Provider) -> String {
        let path = OAuthSandbox.paths[provider]!
        return baseURL(for: provider) + (provider == .facebook ? "/v26.0" + path : path)
    }

    /// A URL of a generated media file, e.g. `mediaURL("clip.mp4", bytes: 10_000_000)`.
    public func mediaURL(_ name: String, bytes: Int = 4096, query: String = "") -> String {
        "\(origin)/media/\(name)?bytes=\(bytes)\(query.isEmpty ? "" : "&" + query)"
    }

    /// Starts listening (port 0: any free port) and returns the port.
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws -> Int {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        /// Set once listening: a failure before that is the caller's to report (the port may be taken).
        let listening = Mutex(false)
        let failure = Mutex<String?>(nil)
        let app = Application(
            router: buildRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "PushRelay provider sandbox"),
            onServerRunning: { channel in
                listening.withLock { $0 = true }
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let logger = self.logger
        // Run as a service, so that `stop()` can shut it down gracefully (a cancelled Hummingbird server logs
        // an error for the connections it drops).
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task {
            do {
                try await group.run()
            } catch {
                if listening.withLock({ $0 }) {
                    logger.warning("provider sandbox stopped", metadata: ["error": "\(error)"])
                } else {
                    failure.withLock { $0 = "\(error)" }
                }
            }
            continuation.finish()  // a failed bind ends the wait below instead of hanging it
        }
        var bound: Int?
        for await value in stream { bound = value }
        guard let bound else {
            task.cancel()
            throw SandboxStartError(host: host, port: port, reason: failure.withLock { $0 } ?? "no listener")
        }
        server.withLock { $0 = (group, bound) }
        logger.info("provider sandbox listening", metadata: ["origin": "http://\(host):\(bound)"])
        return bound
    }

    /// Stops listening, letting the requests in progress finish (held answers stay held until released).
    public func stop() {
        guard let group = server.withLock({ $0.group }) else { return }
        Task { await group.triggerGracefulShutdown() }
    }

    struct SandboxStartError: Error, CustomStringConvertible {
        let host: String
        let port: Int
        let reason: String
        var description: String { "the provider sandbox could not listen on \(host):\(port): \(reason)" }
    }

    func buildRouter() -> Router<SandboxRequestContext> {
        let router = Router(context: SandboxRequestContext.self)
        let methods: [HTTPRequest.Method] = [.get, .post, .put, .delete, .patch]
        for (provider, prefix) in Self.prefixes {
            for method in methods {
                router.on("/\(prefix)/**", method: method) { request, context in
                    try await self.handle(provider: provider, prefix: "/\(prefix)", request: request, context: context)
                }
            }
        }
        router.get("/media/{name}") { request, context in
            MediaOrigin.serve(request, name: context.parameters.get("name") ?? "")
        }
        router.get("/_sandbox/requests") { request, _ in
            let provider = request.uri.queryParameters.get("provider")
            let token = request.uri.queryParameters.get("token")
            return Response.json(200, ["requests": .array(self.recorder.requests(provider: provider, token: token).map(\.json))])
        }
        router.delete("/_sandbox/requests") { _, _ in
            self.recorder.reset()
            return Response(status: .noContent)
        }
        router.post("/_sandbox/faults") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            do {
                self.faults.add(try SandboxFault(json: try JSONValue.parse(body.readableBytesView)))
                return Response.json(201, ["status": "scheduled"])
            } catch let error as RelayError {
                return Response.json(400, ["error": .string(error.info)])
            }
        }
        // `{"token":"…"}` releases only the answers held for that bearer token; no body releases all.
        router.post("/_sandbox/faults/release") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 16)
            guard body.readableBytes > 0 else { return Response.json(200, ["released": .integer(Int64(self.faults.releaseHeld()))]) }
            guard case .string(let token)? = (try? JSONValue.parse(body.readableBytesView))?["token"] else {
                return Response.json(400, ["error": #"the body, if any, must be {"token":"<bearer token>"}"#])
            }
            return Response.json(200, ["released": .integer(Int64(self.faults.releaseHeld(token: token)))])
        }
        router.delete("/_sandbox/faults") { _, _ in
            self.faults.clear()
            return Response(status: .noContent)
        }
        return router
    }

    func handle(provider: Provider, prefix: String, request: Request, context: SandboxRequestContext) async throws -> Response {
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let call: SandboxCall
        do {
            call = try SandboxCall(request: request, body: body, pathPrefix: prefix)
        } catch {
            return Response.json(400, ["error": "malformed multipart body"])
        }
        // The fault is taken before the request is recorded: a test that saw the request recorded and then
        // releases held answers releases this one too.
        let fault = faults.take(provider: Self.prefixes[provider]!, method: call.method, path: call.path, token: call.actingToken)
        recorder.append(
            RecordedRequest(
                provider: Self.prefixes[provider]!, method: call.method, path: call.path,
                query: request.uri.query ?? "", headers: call.headers, bodySize: body.readableBytes,
                body: call.recordedBody, bearerToken: call.actingToken, receivedAt: Date()))
        if let (fault, mark) = fault {
            switch fault {
            case .respond(let status, let body, let headers):
                return Response.json(status, body, headers: headers)
            case .expiredToken:
                return expiredToken(provider)
            case .dropConnection:
                context.channel.close(promise: nil)
                throw SandboxError.connectionDropped
            case .delay(let duration):
                try await Task.sleep(for: duration)
            case .hold:
                await faults.hold(since: mark)
            }
        }
        if let answer = OAuthSandbox.handle(provider, call) { return answer }
        switch provider {
        case .twitter: return x.handle(call)
        case .pinterest: return pinterest.handle(call)
        case .linkedin: return linkedin.handle(call)
        case .youtube: return youtube.handle(call)
        case .facebook: return facebook.handle(call)
        }
    }

    func expiredToken(_ provider: Provider) -> Response {
        switch provider {
        case .twitter: XSandbox.expiredToken
        case .pinterest: PinterestSandbox.expiredToken
        case .linkedin: LinkedInSandbox.expiredToken
        case .youtube: YouTubeSandbox.expiredToken
        case .facebook: FacebookSandbox.expiredToken
        }
    }
}
