import Foundation
import PostgresNIO
import ProviderSandbox
import RelayCore
import RelayEngine
import Testing
import TestSupport

/// Outcome callbacks (DESIGN §4): subscriptions and per-request `callback_url`, signed with the Standard
/// Webhooks scheme, retried on the schedule with a stable `webhook-id`, `dead` at the end, 410 disables.
@Suite struct CallbackTests {
    static let receiver: Task<CallbackReceiver, any Error> = Task { try await CallbackReceiver.start() }

    func subscribe(_ env: TestEnvironment, path: String, events: [String]) async throws -> (id: String, secret: String) {
        let receiver = try await Self.receiver.value
        let body = #"{"url":"\#(receiver.origin)\#(path)","events":[\#(events.map { "\"\($0)\"" }.joined(separator: ","))],"description":"test"}"#
        let reply = try await env.send(.POST, "/subscriptions.json", body: body)
        #expect(reply.status == 201, "\(reply.text)")
        let id = try #require(reply.data?["id"]?.stringValue)
        let secret = try #require(reply.data?["secret"]?.stringValue)
        return (id, secret)
    }

    @Test func aSubscriptionReceivesTheSignedOutcome() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let path = "/hooks/\(UUID().uuidString)"
        let (subscriptionID, secret) = try await subscribe(env, path: path, events: ["push.succeeded", "push.failed"])
        #expect(secret.hasPrefix("whsec_"))
        let listed = try await env.send(.GET, "/subscriptions.json")
        let mine = listed.data?["subscriptions"]?.arrayValue?.first { $0["id"]?.stringValue == subscriptionID }
        #expect(mine?["url"]?.stringValue == receiver.origin + path)
        #expect(mine?["secret"] == nil, "the secret is shown only once")

        let identity = try await env.connectIdentity()
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"called back \#(UUID())"}}}}"#)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let received = await receiver.callbacks(path: path, eventID: eventID)
        let callback = try #require(received.first)
        #expect(callback.json["type"] == "push.succeeded")
        #expect(callback.json["data"]?["status"] == "succeeded")
        #expect(callback.json["data"]?["path"] == "twitter/post")
        #expect(callback.json["data"]?["identity_token"]?.stringValue == identity.token)
        #expect(callback.json["data"]?["result"] == reply.data)
        #expect(callback.json["data"]?["error"] == .null)
        #expect(callback.json["timestamp"]?.stringValue.flatMap(RFC3339.parse) != nil)
        let webhookID = try #require(callback.headers["webhook-id"])
        #expect(throws: Never.self) {
            try StandardWebhooks(secrets: [secret]).verify(
                id: webhookID, timestamp: callback.headers["webhook-timestamp"], signature: callback.headers["webhook-signature"],
                body: callback.body, now: Date())
        }
        // Someone else's implementation agrees: the Standard Webhooks reference library (CI provides it).
        if let python = ProcessInfo.processInfo.environment["PUSHRELAY_STANDARD_WEBHOOKS_PYTHON"], !python.isEmpty {
            #expect(try await Self.referenceVerifies(python: python, secret: secret, callback: callback, body: callback.body))
            #expect(try await !Self.referenceVerifies(python: python, secret: secret, callback: callback, body: callback.body + Data(" ".utf8)))
        }
        // The event shows its callback, delivered.
        let event = try await env.finalEvent(eventID)
        let shown = event["callbacks"]?.arrayValue?.first { $0["webhook_id"]?.stringValue == webhookID }
        #expect(shown?["state"] == "delivered" || shown?["state"] == "delivering")

        #expect(try await env.send(.DELETE, "/subscriptions/\(subscriptionID).json").status == 200)
        #expect(try await env.send(.DELETE, "/subscriptions/\(subscriptionID).json").status == 404)
    }

    /// Runs `.ci/verify_webhook.py` (the `standardwebhooks` package) on a received callback.
    static func referenceVerifies(python: String, secret: String, callback: CallbackReceiver.Received, body: Data) async throws -> Bool {
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        let bodyFile = FileManager.default.temporaryDirectory.appendingPathComponent("callback-\(UUID().uuidString).json")
        try body.write(to: bodyFile)
        defer { try? FileManager.default.removeItem(at: bodyFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [
            root.appendingPathComponent(".ci/verify_webhook.py").path, secret, callback.headers["webhook-id"] ?? "",
            callback.headers["webhook-timestamp"] ?? "", callback.headers["webhook-signature"] ?? "", bodyFile.path,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        return status == 0
    }

    @Test func callbackURLIsRetriedWithTheSameWebhookIDThenDelivered() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let path = "/request/\(UUID().uuidString)"
        receiver.script(path, statuses: [500, 503])
        let identity = try await env.connectIdentity()
        let reply = try await env.push(
            identity, "twitter/post",
            #"{"request":{"callback_url":"\#(receiver.origin)\#(path)","push":{"post":{"message":"retry my callback \#(UUID())"}}}}"#)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let received = await receiver.callbacks(path: path, eventID: eventID, count: 3)
        #expect(received.map(\.status) == [500, 503, 200])
        #expect(Set(received.compactMap { $0.headers["webhook-id"] }).count == 1, "webhook-id is stable across retries")
        // Signed with the callback secret of the API key that made the request.
        let last = try #require(received.last)
        #expect(throws: Never.self) {
            try StandardWebhooks(secrets: [env.callbackSecret]).verify(
                id: last.headers["webhook-id"], timestamp: last.headers["webhook-timestamp"], signature: last.headers["webhook-signature"],
                body: last.body, now: Date())
        }
    }

    @Test func aHangingSubscriberDelaysNoOther() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let slowPath = "/hanging/\(UUID().uuidString)"
        let fastPath = "/fast/\(UUID().uuidString)"
        receiver.hold(slowPath)
        let identity = try await env.connectIdentity()
        let slow = try await env.push(
            identity, "twitter/post", #"{"request":{"callback_url":"\#(receiver.origin)\#(slowPath)","push":{"post":{"message":"slow \#(UUID())"}}}}"#)
        let slowID = try #require(slow.headers.first(name: "PushRelay-Event-Id"))
        // Its delivery is in flight and hangs…
        let deadline = ContinuousClock.now + .seconds(30)
        while receiver.heldCount(slowPath) == 0 && ContinuousClock.now < deadline { await Task.yield() }
        #expect(receiver.heldCount(slowPath) == 1)
        // …while a later callback to someone else is delivered.
        let fast = try await env.push(
            identity, "twitter/post", #"{"request":{"callback_url":"\#(receiver.origin)\#(fastPath)","push":{"post":{"message":"fast \#(UUID())"}}}}"#)
        let fastID = try #require(fast.headers.first(name: "PushRelay-Event-Id"))
        #expect(await receiver.callbacks(path: fastPath, eventID: fastID, within: 30).count == 1)
        #expect(receiver.heldCount(slowPath) == 1, "the hanging delivery is still waiting")
        receiver.release(slowPath)
        #expect(await receiver.callbacks(path: slowPath, eventID: slowID).count == 1)
    }

    @Test func aCallbackThatNeverSucceedsEndsDead() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let path = "/down/\(UUID().uuidString)"
        receiver.script(path, statuses: [500, 500, 500, 500])
        let identity = try await env.connectIdentity()
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"callback_url":"\#(receiver.origin)\#(path)","push":{"post":{"message":"dead \#(UUID())"}}}}"#)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        #expect(await receiver.callbacks(path: path, eventID: eventID, count: 3).count == 3)
        // Schedule [0, 1, 1]: three tries, then dead.
        let deadline = ContinuousClock.now + .seconds(30)
        var state: JSONValue?
        repeat {
            state = try await env.send(.GET, "/push/events/\(eventID).json?wait=0.2").data?["callbacks"]?.arrayValue?
                .first { $0["url"]?.stringValue?.hasSuffix(path) == true }?["state"]
        } while state != "dead" && ContinuousClock.now < deadline
        #expect(state == "dead")

        // Replay sends it again, with the same webhook-id.
        let replay = try await env.send(.POST, "/push/events/\(eventID)/replay.json")
        #expect(replay.status == 202)
        let again = await receiver.callbacks(path: path, eventID: eventID, count: 4)
        #expect(again.count == 4)
        #expect(Set(again.compactMap { $0.headers["webhook-id"] }).count == 1)
    }

    @Test func goneDisablesTheSubscription() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let path = "/gone/\(UUID().uuidString)"
        receiver.script(path, statuses: Array(repeating: 410, count: 50))
        let (subscriptionID, _) = try await subscribe(env, path: path, events: ["push.failed"])
        let identity = try await env.connectIdentity()
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":""}}}}"#)
        #expect(reply.status == 400)  // refused at intake: no event, no callback
        env.sandbox.faults.add(
            SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, action: .respond(status: 403, body: ["detail": "Forbidden"], headers: [])))
        let failed = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"will fail \#(UUID())"}}}}"#)
        #expect(failed.status == 403)
        // This failure, or another test's, reaches the subscription first; either way it answers 410.
        let received = await receiver.callbacks(path: path, eventID: nil)
        #expect(received.first?.json["type"] == "push.failed")
        #expect(received.first?.json["data"]?["error"]?["code"] != nil)
        #expect(received.first?.status == 410)
        let deadline = ContinuousClock.now + .seconds(30)
        var active = true
        repeat {
            let listed = try await env.send(.GET, "/subscriptions.json")
            active = listed.data?["subscriptions"]?.arrayValue?.contains { $0["id"]?.stringValue == subscriptionID } ?? false
        } while active && ContinuousClock.now < deadline
        #expect(!active, "a 410 Gone disables the subscription")
    }

    @Test func identityChangesAreCalledBack() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let path = "/identities/\(UUID().uuidString)"
        _ = try await subscribe(env, path: path, events: ["identity.connected", "identity.disconnected", "identity.needs_reconnect"])
        let identity = try await env.connectIdentity()
        // The token is refused and cannot be refreshed: needs_reconnect.
        env.sandbox.faults.add(SandboxFault(provider: "x", pathContains: "/2/tweets", token: identity.accessToken, action: .expiredToken))
        env.sandbox.faults.add(
            SandboxFault(
                provider: "x", pathContains: "/2/oauth2/token", token: "refresh-\(identity.accessToken)",
                action: .respond(status: 400, body: ["error": "invalid_request"], headers: [])))
        #expect(try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"refused"}}}}"#).status == 403)
        let disconnected = try await env.webhook(
            "identity-disconnected", body: #"{"type":"identity.disconnected","data":{"identity_token":"\#(identity.token)"}}"#)
        #expect(disconnected.status == 202)

        let received = await receiver.callbacks(path: path, count: 3) { $0["data"]?["identity_token"]?.stringValue == identity.token }
        // Delivered concurrently: compared as a set, each type with the state it announces.
        let states = Dictionary(received.map { ($0.json["type"]?.stringValue ?? "", $0.json["data"]?["state"]?.stringValue ?? "") }) { $1 }
        #expect(states == ["identity.connected": "connected", "identity.needs_reconnect": "needs_reconnect", "identity.disconnected": "disconnected"])
        #expect(received.allSatisfy { $0.json["data"]?["provider"] == "twitter" })
    }

    @Test func aSubscriptionInsertedWithSQLIsSignedWithItsSecretThenEncrypted() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let path = "/sql/\(UUID().uuidString)"
        let secret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        // What an admin types in psql, literally (the secret is base64: nothing to escape).
        let inserted = try await env.store.query(
            PostgresQuery(
                unsafeSQL: """
                    INSERT INTO subscriptions (url, events, description, secret)
                    VALUES ('\(receiver.origin + path)', ARRAY['identity.connected'], 'added with SQL', '\(secret)') RETURNING id
                    """), logger: env.logger)
        var subscriptionID: UUID?
        for try await id in inserted.decode(UUID.self) { subscriptionID = id }
        let id = try #require(subscriptionID)

        let identity = try await env.connectIdentity()
        let received = await receiver.callbacks(path: path, count: 1) { $0["data"]?["identity_token"]?.stringValue == identity.token }
        let callback = try #require(received.first)
        #expect(callback.json["type"] == "identity.connected")
        #expect(throws: Never.self) {
            try StandardWebhooks(secrets: [secret]).verify(
                id: callback.headers["webhook-id"] ?? "", timestamp: callback.headers["webhook-timestamp"],
                signature: callback.headers["webhook-signature"], body: callback.body, now: Date())
        }
        // Used once in clear, then kept only as ciphertext.
        let row = try await env.store.query(
            """
            SELECT secret_key_id IS NOT NULL, position(convert_to(\(secret), 'UTF8') in secret) = 0 FROM subscriptions WHERE id = \(id)
            """, logger: env.logger)
        for try await (keyed, clearGone) in row.decode((Bool, Bool).self) {
            #expect(keyed)
            #expect(clearGone)
        }
        // A malformed secret is refused by the schema itself.
        await #expect(throws: (any Error).self) {
            try await env.store.query(
                "INSERT INTO subscriptions (url, events, secret) VALUES ('https://example.com/', ARRAY['push.failed'], 'hunter2')",
                logger: env.logger
            ).decode(Int.self).reduce(0) { $0 + $1 }
        }
    }

    @Test func aWebhookRequestsCallbackURLIsSignedWithTheWebhookSecret() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await Self.receiver.value
        let path = "/webhook-callback/\(UUID().uuidString)"
        let identity = try await env.connectIdentity()
        let body = #"{"type":"publish.requested","data":{"identity_token":"\#(identity.token)","path":"twitter/post","request":{"callback_url":"\#(receiver.origin + path)","push":{"post":{"message":"webhook with callback"}}}}}"#
        let reply = try await env.webhook("publish-requested", body: body)
        #expect(reply.status == 202, "\(reply.text)")
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let callback = try #require(await receiver.callbacks(path: path, eventID: eventID).first)
        #expect(callback.json["type"] == "push.succeeded")
        // The sender of the webhook holds the webhook secret: it verifies the callback with it.
        #expect(throws: Never.self) {
            try StandardWebhooks(secrets: [env.webhookSecret]).verify(
                id: callback.headers["webhook-id"] ?? "", timestamp: callback.headers["webhook-timestamp"],
                signature: callback.headers["webhook-signature"], body: callback.body, now: Date())
        }
    }

    @Test func refusedAndMalformedSubscriptionsAre400() async throws {
        let env = try await TestEnvironment.shared.value
        #expect(try await env.send(.POST, "/subscriptions.json", body: #"{"url":"ftp://x","events":["push.failed"]}"#).status == 400)
        #expect(try await env.send(.POST, "/subscriptions.json", body: #"{"url":"https://example.com/h","events":["push.maybe"]}"#).status == 400)
        #expect(try await env.send(.POST, "/subscriptions.json", body: #"{"url":"https://example.com/h"}"#).status == 400)
        #expect(try await env.send(.POST, "/subscriptions.json", body: #"{"url":"https://example.com/h","events":["push.failed"]}"#, authenticated: false).status == 401)
        for url in ["https://example.com:99999/h", "https://user:secret@example.com/h", "https://example..com/h"] {
            let reply = try await env.send(.POST, "/subscriptions.json", body: #"{"url":"\#(url)","events":["push.failed"]}"#)
            #expect(reply.status == 400 && reply.text.contains("\"url "), "\(url): \(reply.text)")
        }
    }

    /// `HTTPS://` is an http(s) URL like any other (it was a 500: the table's CHECK wants the scheme in lower case).
    @Test func aSchemeInCapitalsIsStoredInLowerCase() async throws {
        let env = try await TestEnvironment.shared.value
        let reply = try await env.send(.POST, "/subscriptions.json", body: #"{"url":"HTTPS://EXAMPLE.COM/h","events":["push.failed"]}"#)
        #expect(reply.status == 201, "\(reply.text)")
        #expect(reply.data?["url"] == "https://EXAMPLE.COM/h")
        let id = try #require(reply.data?["id"]?.stringValue)
        #expect(try await env.send(.DELETE, "/subscriptions/\(id).json").status == 200)
    }
}
