import Foundation
import RelayCore
import Testing
import TestSupport

/// Every kind of bad input gets a precise 4xx in the OneAll envelope and stores nothing.
@Suite struct BadInputTests {
    /// Asserts the error envelope: status, flag, code, no `result`, and an info containing `fragment`.
    func expectError(_ reply: TestReply, _ status: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == status, "\(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.flag == "error", sourceLocation: sourceLocation)
        #expect(reply.code == Int64(status), sourceLocation: sourceLocation)
        #expect(reply.json["response"]?["result"] == nil, sourceLocation: sourceLocation)
        #expect(reply.info?.contains(fragment) == true, "info: \(reply.info ?? "nil")", sourceLocation: sourceLocation)
        #expect(reply.headers.first(name: "content-type")?.hasPrefix("application/json") == true, sourceLocation: sourceLocation)
    }

    func eventCount(_ env: TestEnvironment, identity: TestIdentity) async throws -> Int {
        let rows = try await env.store.client.query(
            "SELECT count(*) FROM events WHERE identity_token = \(UUID(uuidString: identity.token)!) AND kind = 'publish.requested'")
        for try await count in rows.decode(Int.self) { return count }
        return -1
    }

    @Test func malformedJSON() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        expectError(try await env.push(identity, "twitter/post", #"{"request":{"push":"#), 400, "not valid JSON")
        expectError(try await env.push(identity, "twitter/post", ""), 400, "empty")
        expectError(try await env.push(identity, "twitter/post", "[1,2]"), 400, "JSON object")
        #expect(try await eventCount(env, identity: identity) == 0)
    }

    @Test func missingAndWronglyTypedFields() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        expectError(try await env.push(identity, "twitter/post", #"{"request":{}}"#), 400, "request.push is required")
        expectError(try await env.push(identity, "twitter/post", #"{"request":{"push":{"picture":{}}}}"#), 400, "request.push.post is required")
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":""}}}}"#), 400,
            "request.push.post.message is required")
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":42}}}}"#), 400,
            "request.push.post.message must be a string, got a number")
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"hi","attachments":"123"}}}}"#), 400,
            "request.push.post.attachments must be an array")
        expectError(
            try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"description":"no url"}}}}"#), 400,
            "request.push.picture.url is required")
        expectError(
            try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"ftp://example.com/a.png"}}}}"#), 400,
            "absolute http or https URL")
        expectError(
            try await env.push(identity, "twitter/video", #"{"request":{"push":{"video":{"title":"no url"}}}}"#), 400,
            "request.push.video.video_url is required")
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"schedule":{"at":"tomorrow"},"push":{"post":{"message":"x"}}}}"#),
            400, "RFC 3339")
        // A year past PostgreSQL's timestamps (it was a 500 from the batch insert).
        expectError(
            try await env.push(
                identity, "twitter/post", #"{"request":{"schedule":{"at":"300000-01-01T00:00:00Z"},"push":{"post":{"message":"x"}}}}"#),
            400, "RFC 3339")
        #expect(try await eventCount(env, identity: identity) == 0)
        #expect(env.sandbox.recorder.requests(token: identity.accessToken).isEmpty)
    }

    @Test func credentials() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let path = "/push/identities/\(identity.token)/twitter/post.json"
        let body = #"{"request":{"push":{"post":{"message":"hi"}}}}"#
        let missing = try await env.send(.POST, path, body: body, authenticated: false)
        expectError(missing, 401, RelayError.authenticationInfo)
        #expect(missing.info == "Authentication credentials are missing or incorrect: http://docs.oneall.com/api/basic/authentication/")
        let wrong = try await env.send(
            .POST, path, body: body,
            headers: [("Authorization", "Basic " + Data("\(env.apiKey.publicKey):not-the-key".utf8).base64EncodedString())],
            authenticated: false)
        expectError(wrong, 401, RelayError.authenticationInfo)
        for reply in [missing, wrong] {
            #expect(reply.headers.first(name: "WWW-Authenticate") == #"Basic realm="PushRelay", charset="UTF-8""#)
        }
        let unsigned = try await env.send(.POST, "/webhooks/identity-connected", body: "{}", authenticated: false)
        #expect(unsigned.status == 401)
        #expect(unsigned.headers.first(name: "WWW-Authenticate") == nil, "webhooks are signed, not HTTP authenticated")
        #expect(try await eventCount(env, identity: identity) == 0)
    }

    @Test func unknownIdentityRouteAndMethod() async throws {
        let env = try await TestEnvironment.shared.value
        let body = #"{"request":{"push":{"post":{"message":"hi"}}}}"#
        expectError(
            try await env.send(.POST, "/push/identities/\(UUID().uuidString.lowercased())/twitter/post.json", body: body), 404,
            "Unknown identity_token")
        expectError(try await env.send(.POST, "/push/identities/not-a-uuid/twitter/post.json", body: body), 404, "Unknown identity_token")
        let identity = try await env.connectIdentity()
        expectError(try await env.push(identity, "twitter/tweet", body), 404, "Unknown Push API route twitter/tweet")
        expectError(try await env.send(.POST, "/push/identities/\(identity.token)/twitter/post.xml", body: body), 404, "routes end in .json")
        expectError(
            try await env.push(identity, "facebook/page/post", #"{"request":{"push":{"page":{"id":"1","message":"x"}}}}"#), 404,
            "connected to X, not Facebook")
        let getPush = try await env.send(.GET, "/push/identities/\(identity.token)/twitter/post.json")
        expectError(getPush, 405, "GET is not allowed")
        #expect(getPush.headers.first(name: "Allow") == "POST", "a 405 names the methods the path takes")
        expectError(try await env.send(.GET, "/webhooks/identity-connected", authenticated: false), 405, "GET is not allowed")
        let putEvent = try await env.send(.PUT, "/push/events/\(UUID().uuidString.lowercased()).json")
        expectError(putEvent, 405, "it takes GET, HEAD, DELETE")
        #expect(putEvent.headers.first(name: "Allow") == "GET, HEAD, DELETE")
        for path in ["/healthz", "/readyz", "/metrics"] {
            let post = try await env.send(.POST, path, body: "{}", authenticated: false)
            expectError(post, 405, "POST is not allowed on \(path)")
            #expect(post.headers.first(name: "Allow") == "GET, HEAD")
        }
        expectError(try await env.send(.GET, "/no/such/thing", authenticated: false), 404, "No resource")
        expectError(try await env.send(.GET, "/push/events/\(UUID().uuidString).json"), 404, "Unknown event")
        #expect(try await eventCount(env, identity: identity) == 0)
    }

    @Test func oversizedBody() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let message = String(repeating: "a", count: (1 << 20) + 10)
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"\#(message)"}}}}"#)
        expectError(reply, 413, "larger than the limit of 1048576 bytes")
        // Without Content-Length the size is only known while reading: still a 413, not a 500.
        let chunked = try await env.send(
            .POST, "/push/identities/\(identity.token)/twitter/post.json",
            body: #"{"request":{"push":{"post":{"message":"\#(message)"}}}}"#, chunked: true)
        expectError(chunked, 413, "larger than the limit of 1048576 bytes")
        let webhook = try await env.send(
            .POST, "/webhooks/identity-connected", body: String(repeating: " ", count: 2 << 20) + "{}", authenticated: false,
            chunked: true)
        expectError(webhook, 413, "larger than the limit of 1048576 bytes")
        #expect(try await eventCount(env, identity: identity) == 0)
    }

    /// Valid JSON that PostgreSQL's `jsonb` cannot keep as sent is a 400, not a 500 from the batch insert
    /// (`\u0000` used to reach PostgreSQL and fail there), for the Push API and webhooks alike.
    @Test func jsonThatCannotBeStored() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"a\u0000b"}}}}"#), 400,
            #"contains \u0000 (the NUL character)"#)
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"hi","x\u0000":1}}}}"#), 400,
            #"contains \u0000"#)
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"hi","x":1e400}}}}"#), 400,
            "a number beyond the range of a double")
        let nested = String(repeating: "[", count: 300) + String(repeating: "]", count: 300)
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"hi","x":\#(nested)}}}}"#), 400,
            "more than 256 levels deep")
        #expect(try await eventCount(env, identity: identity) == 0)

        let token = UUID().uuidString.lowercased()
        let connected = try await env.webhook(
            "identity-connected",
            body: #"{"type":"identity.connected","data":{"identity_token":"\#(token)","provider":"twitter","#
                + #""provider_user_id":"1","display_name":"A\u0000","credentials":{"access_token":"t"}}}"#)
        expectError(connected, 400, #"contains \u0000"#)
        let rows = try await env.store.client.query("SELECT count(*) FROM identities WHERE identity_token = \(UUID(uuidString: token)!)")
        for try await count in rows.decode(Int.self) { #expect(count == 0) }

        // Characters that jsonb keeps are accepted: the message reaches X as sent.
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"a\u0001b \ud83d\ude80"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(env.sandbox.recorder.requests(token: identity.accessToken).last?.body?["text"]?.stringValue == "a\u{01}b 🚀")
    }

    /// Deduplication keys are stored in a unique index, which PostgreSQL cannot fill with long values: a key
    /// over 255 bytes is a 400 (it was a 500 from the batch insert), on the Push API and on webhooks.
    @Test func keysAndIdentifiersHaveALimit() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let body = #"{"request":{"push":{"post":{"message":"keyed"}}}}"#
        // Random text, which PostgreSQL cannot compress under its index limit.
        let long = Data((0..<4500).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        expectError(
            try await env.push(identity, "twitter/post", body, headers: [("Idempotency-Key", long)]), 400,
            "Idempotency-Key is 6000 bytes long; at most 255 are accepted")
        expectError(try await env.push(identity, "twitter/post", body, headers: [("Idempotency-Key", "")]), 400, "must not be empty")
        #expect(try await eventCount(env, identity: identity) == 0)
        let longest = String(long.prefix(255))
        #expect(try await env.push(identity, "twitter/post", body, headers: [("Idempotency-Key", longest)]).status == 200)

        let token = UUID().uuidString.lowercased()
        let connection = #"{"type":"identity.connected","data":{"identity_token":"\#(token)","provider":"twitter","#
            + #""provider_user_id":"1","credentials":{"access_token":"t"}}}"#
        expectError(try await env.webhook("identity-connected", body: connection, id: "msg_" + long), 400, "webhook-id is 6004 bytes long")
        #expect(try await env.webhook("identity-connected", body: connection, id: "msg_" + long.prefix(251)).status == 202)

        // So are the identifiers that index an identity and its accounts (they were a 500 too).
        let other = UUID().uuidString.lowercased()
        let longUser = #"{"type":"identity.connected","data":{"identity_token":"\#(other)","provider":"twitter","#
            + #""provider_user_id":"\#(long)","credentials":{"access_token":"t"}}}"#
        expectError(try await env.webhook("identity-connected", body: longUser), 400, "data.provider_user_id is 6000 bytes long")
        let longAccount = #"{"type":"identity.connected","data":{"identity_token":"\#(other)","provider":"facebook","#
            + #""provider_user_id":"1","credentials":{"access_token":"t"},"#
            + #""accounts":[{"kind":"page","id":"\#(long)","name":"P","access_token":"p"}]}}"#
        expectError(try await env.webhook("identity-connected", body: longAccount), 400, "data.accounts[0].id is 6000 bytes long")
        let rows = try await env.store.client.query("SELECT count(*) FROM identities WHERE identity_token = \(UUID(uuidString: other)!)")
        for try await count in rows.decode(Int.self) { #expect(count == 0) }
    }

    /// A sentence quotes a long value by its start and its length: a 6000-byte path or field came back, and was
    /// logged, entire.
    @Test func longValuesAreQuotedByTheirStart() async throws {
        let env = try await TestEnvironment.shared.value
        let long = String(repeating: "a", count: 6000)
        let body = #"{"request":{"push":{"post":{"message":"hi"}}}}"#
        let cases: [(TestReply, Int, String)] = [
            (try await env.send(.POST, "/push/identities/\(long)/twitter/post.json", body: body), 404, "Unknown identity_token aaaa"),
            (try await env.send(.GET, "/no/such/\(long)", authenticated: false), 404, "No resource at GET /no/such/aaaa"),
            (try await env.send(.GET, "/push/events/\(long).json"), 404, "No event at /push/events/aaaa"),
            (try await env.send(.POST, "/subscriptions.json", body: #"{"url":"https://example.com/h","events":["\#(long)"]}"#), 400,
             "got \"aaaa"),
        ]
        for (reply, status, start) in cases {
            expectError(reply, status, start)
            #expect(reply.info?.contains(" bytes)") == true && (reply.info?.utf8.count ?? 0) < 400, "\(reply.info ?? "nil")")
        }
    }

    @Test func providerRefusalsComeBackWithTheProviderMessage() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let long = String(repeating: "é", count: 281)
        expectError(try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"\#(long)"}}}}"#), 400, "X refused the request")
        let body = #"{"request":{"push":{"post":{"message":"twice"}}}}"#
        #expect(try await env.push(identity, "twitter/post", body).status == 200)
        expectError(try await env.push(identity, "twitter/post", body), 409, "duplicate content")
        expectError(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"attachments":["999"]}}}}"#), 400,
            "media IDs are invalid")
    }

    @Test func mediaThatIsNotWhatItClaims() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let mislabelled = env.sandbox.mediaURL("photo.jpg", query: "content_type=image/png")
        expectError(
            try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"\#(mislabelled)"}}}}"#), 400,
            "claims to be image/png but its content is image/jpeg")
        let text = env.sandbox.mediaURL("notes.txt")
        expectError(
            try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"\#(text)"}}}}"#), 400,
            "not a recognised media file")
        let huge = env.sandbox.mediaURL("big.png", bytes: 6_000_000)
        expectError(
            try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"\#(huge)"}}}}"#), 400,
            "larger than the")
        let missing = env.sandbox.mediaURL("gone.png", query: "status=404")
        expectError(
            try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"\#(missing)"}}}}"#), 400,
            "answered HTTP 404")
        let loop = env.sandbox.mediaURL("loop.png", query: "redirect=4")
        expectError(
            try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"\#(loop)"}}}}"#), 400,
            "redirected more than 3 times")
        let redirected = env.sandbox.mediaURL("ok.png", query: "redirect=3")
        #expect(try await env.push(identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"\#(redirected)"}}}}"#).status == 200)
        // Only the successful one reached X.
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).map(\.path) == ["/2/media/upload"])
    }
}
