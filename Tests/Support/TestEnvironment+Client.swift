import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import RelayCore
import RelayEngine
import Testing

/// A reply read back by a test: status, headers, body text and the body as JSON.
public struct TestReply: Sendable {
    public let status: Int
    public let headers: HTTPHeaders
    public let text: String

    public var json: JSONValue { (try? JSONValue.parse(Data(text.utf8))) ?? .null }
    public var statusBlock: JSONValue? { json["response"]?["request"]?["status"] }
    public var flag: String? { statusBlock?["flag"]?.stringValue }
    public var info: String? { statusBlock?["info"]?.stringValue }
    public var code: Int64? {
        if case .integer(let code)? = statusBlock?["code"] { return code }
        return nil
    }
    public var data: JSONValue? { json["response"]?["result"]?["data"] }
    public var resource: String? { json["response"]?["request"]?["resource"]?.stringValue }
}

/// A connected identity of one test: its token and its own provider access token.
public struct TestIdentity: Sendable {
    public let token: String
    public let accessToken: String
    public let provider: String
    public let providerUserID: String

    public init(token: String, accessToken: String, provider: String = "twitter", providerUserID: String = "1") {
        self.token = token
        self.accessToken = accessToken
        self.provider = provider
        self.providerUserID = providerUserID
    }
}

extension TestEnvironment {
    /// The `Authorization` header of the test's API key.
    public var authorization: String {
        "Basic " + Data("\(apiKey.publicKey):\(apiKey.privateKey)".utf8).base64EncodedString()
    }

    /// Sends a request to the relay over a real socket; `chunked` sends the body without Content-Length.
    public func send(
        _ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [],
        authenticated: Bool = true, base: String? = nil, timeout: TimeAmount = .seconds(60), chunked: Bool = false
    ) async throws -> TestReply {
        var request = HTTPClientRequest(url: (base ?? baseURL) + path)
        request.method = method
        if authenticated { request.headers.add(name: "Authorization", value: authorization) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            if chunked {
                let parts = AsyncStream<ByteBuffer> { continuation in
                    var bytes = ByteBuffer(string: body)
                    while let part = bytes.readSlice(length: min(64 << 10, bytes.readableBytes)), part.readableBytes > 0 {
                        continuation.yield(part)
                    }
                    continuation.finish()
                }
                request.body = .stream(parts, length: .unknown)
            } else {
                request.body = .bytes(ByteBuffer(string: body))
            }
        }
        let response = try await http.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return TestReply(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
    }

    /// POST /push/identities/<token>/<route>.json
    public func push(
        _ identity: TestIdentity, _ route: String, _ body: String, headers: [(String, String)] = [], base: String? = nil,
        timeout: TimeAmount = .seconds(60)
    ) async throws -> TestReply {
        try await send(.POST, "/push/identities/\(identity.token)/\(route).json", body: body, headers: headers, base: base, timeout: timeout)
    }

    /// POSTs a webhook signed with the Standard Webhooks scheme (or a chosen signature/timestamp).
    public func webhook(
        _ name: String, body: String, id: String = "msg_\(UUID().uuidString)", timestamp: Int? = nil,
        signature: String? = nil, base: String? = nil
    ) async throws -> TestReply {
        let time = timestamp ?? Int(Date().timeIntervalSince1970)
        let signer = StandardWebhooks(secrets: [webhookSecret])
        let signed = signature ?? signer.signature(id: id, timestamp: time, body: Data(body.utf8))
        return try await send(
            .POST, "/webhooks/\(name)", body: body,
            headers: [("webhook-id", id), ("webhook-timestamp", String(time)), ("webhook-signature", signed)],
            authenticated: false, base: base)
    }

    /// Connects a new identity (by webhook) with a unique access token and, unless told otherwise,
    /// the refresh token `refresh-<access token>`.
    public func connectIdentity(
        provider: String = "twitter", expiresAt: String? = nil, withRefreshToken: Bool = true, accounts: String = "[]",
        base: String? = nil
    ) async throws -> TestIdentity {
        let accessToken = "token-\(UUID().uuidString.lowercased())"
        let identity = TestIdentity(
            token: UUID().uuidString.lowercased(), accessToken: accessToken, provider: provider,
            providerUserID: String(UInt64.random(in: 1...UInt64.max)))
        return try await connect(
            identity, accessToken: accessToken, refreshToken: withRefreshToken ? "refresh-\(accessToken)" : nil, expiresAt: expiresAt,
            accounts: accounts, base: base)
    }

    /// Sends identity-connected again for the same account (a user reconnecting), with a new access token.
    public func reconnect(_ identity: TestIdentity) async throws -> TestIdentity {
        let accessToken = "token-\(UUID().uuidString.lowercased())"
        return try await connect(identity, accessToken: accessToken, refreshToken: "refresh-\(accessToken)", expiresAt: nil, accounts: "[]")
    }

    func connect(
        _ identity: TestIdentity, accessToken: String, refreshToken: String?, expiresAt: String?, accounts: String, base: String? = nil
    ) async throws -> TestIdentity {
        func quoted(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "null" }
        let body = """
            {"type":"identity.connected","data":{"identity_token":"\(identity.token)","provider":"\(identity.provider)",\
            "provider_user_id":"\(identity.providerUserID)","display_name":"Test user",\
            "credentials":{"access_token":"\(accessToken)","access_token_secret":null,"refresh_token":\(quoted(refreshToken)),\
            "expires_at":\(quoted(expiresAt)),"scope":"tweet.read tweet.write users.read media.write offline.access"},\
            "accounts":\(accounts)}}
            """
        let reply = try await webhook("identity-connected", body: body, base: base)
        guard reply.status == 202 else { throw TestSetupError("identity-connected answered \(reply.status): \(reply.text)") }
        return TestIdentity(token: identity.token, accessToken: accessToken, provider: identity.provider, providerUserID: identity.providerUserID)
    }

    /// Checks what was stored for a synchronous reply: the event (`GET /push/events/<id>.json`) is
    /// `succeeded` on `route`, its result is the reply's `result.data`, and its provider attempts are `steps`.
    public func expectStored(
        _ reply: TestReply, route: String, steps: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        guard let eventID = reply.headers.first(name: "PushRelay-Event-Id") else {
            Issue.record("no PushRelay-Event-Id header: \(reply.text)", sourceLocation: sourceLocation)
            return
        }
        let event = try await finalEvent(eventID)
        #expect(event["state"] == "succeeded", sourceLocation: sourceLocation)
        #expect(event["path"]?.stringValue == route, sourceLocation: sourceLocation)
        #expect(event["result"] == reply.data, sourceLocation: sourceLocation)
        #expect(event["error"] == .null, sourceLocation: sourceLocation)
        let attempts = event["attempts"]?.arrayValue ?? []
        #expect(attempts.compactMap { $0["step"]?.stringValue } == steps, sourceLocation: sourceLocation)
        #expect(attempts.allSatisfy { $0["outcome"] == "succeeded" }, sourceLocation: sourceLocation)
    }

    /// Reads an event that stays open (a retry waits for a reset) until its first provider attempt is recorded.
    public func eventWithAttempts(_ eventID: String, within seconds: Int = 60) async throws -> TestReply {
        var event = try await send(.GET, "/push/events/\(eventID).json?wait=0.5")
        let deadline = ContinuousClock.now + .seconds(seconds)
        while event.data?["attempts"]?.arrayValue?.isEmpty != false, ContinuousClock.now < deadline {
            event = try await send(.GET, "/push/events/\(eventID).json?wait=0.5")
        }
        return event
    }

    /// Reads `GET /push/events/<id>.json?wait=…`: the relay answers as soon as the event is final.
    public func finalEvent(_ eventID: String, within seconds: Int = 60, base: String? = nil) async throws -> JSONValue {
        let reply = try await send(.GET, "/push/events/\(eventID).json?wait=\(seconds)", base: base, timeout: .seconds(Int64(seconds) + 15))
        guard let data = reply.data else { throw TestSetupError("no event \(eventID): \(reply.text)") }
        return data
    }
}
