import Foundation
import PostgresNIO
import ProviderSandbox
import RelayCore
import Testing
import TestSupport

/// The three X routes through the real server, a real PostgreSQL and the sandbox.
@Suite struct TwitterRouteTests {
    @Test func postPublishesATweetAndRecordsEverything() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let reply = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"Hello World!","attachments":[],"location":""}}}}"#)

        #expect(reply.status == 200)
        #expect(reply.flag == "success")
        #expect(reply.code == 200)
        #expect(reply.info == "Your request has been processed successfully")
        #expect(reply.resource == "/push/identities/\(identity.token)/twitter/post.json")
        #expect(reply.headers.first(name: "content-length") != nil)
        let data = try #require(reply.data)
        #expect(data["provider"] == "twitter")
        #expect(data["object"] == "post")
        let postID = try #require(data["post_id"]?.stringValue)
        #expect(data["post_location"]?.stringValue == "https://twitter.com/i/web/status/\(postID)")
        #expect(reply.text.hasPrefix(#"{"response":{"request":{"date":"#))
        #expect(reply.text.contains(#""result":{"data":{"provider":"twitter","object":"post","post_id""#))

        let received = env.sandbox.recorder.requests(provider: "x", token: identity.accessToken)
        #expect(received.count == 1)
        #expect(received.first?.method == "POST")
        #expect(received.first?.path == "/2/tweets")
        #expect(received.first?.header("authorization") == "Bearer \(identity.accessToken)")
        #expect(received.first?.body == ["text": "Hello World!"])

        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let event = try await env.send(.GET, "/push/events/\(eventID).json")
        #expect(event.status == 200)
        #expect(event.data?["state"] == "succeeded")
        #expect(event.data?["path"] == "twitter/post")
        #expect(event.data?["result"]?["post_id"]?.stringValue == postID)
        #expect(event.data?["error"] == .null)
        let attempts = try #require(event.data?["attempts"]?.arrayValue)
        #expect(attempts.count == 1)
        #expect(attempts.first?["step"] == "tweets.create")
        #expect(attempts.first?["status"] == 201)
        #expect(attempts.first?["outcome"] == "succeeded")

        let rows = try await env.store.client.query(
            "SELECT state, attempt_count FROM publish_jobs WHERE event_id = \(UUID(uuidString: eventID)!)")
        for try await (state, count) in rows.decode((String, Int).self) {
            #expect(state == "succeeded")
            #expect(count == 1)
        }
    }

    /// The sandbox counts a tweet as X does (twitter-text): a link weighs 23 whatever its length, a CJK
    /// character or an emoji 2. The relay passes the text on and reports X's refusal.
    @Test func tweetsAreMeasuredAsXMeasuresThem() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        func tweet(_ text: String) async throws -> TestReply {
            let body: JSONValue = ["request": ["push": ["post": ["message": .string(text)]]]]
            return try await env.push(identity, "twitter/post", body.serialized())
        }
        // 250 characters and a 200-character link: 250 + 1 + 23 = 274 for X.
        let link = "https://example.com/launch?" + String(repeating: "utm=1&", count: 29)
        let withLink = try await tweet(String(repeating: "a", count: 250) + " " + link)
        #expect(withLink.status == 200, "\(withLink.text)")
        // 140 ideographs are 280, 141 are 282; 139 emoji (one a joined family) and a letter are 279.
        #expect(try await tweet(String(repeating: "漢", count: 140)).status == 200)
        let tooLong = try await tweet(String(repeating: "字", count: 141))
        #expect(tooLong.status == 400, "\(tooLong.text)")
        #expect(tooLong.info?.contains("X refused the request: Your Tweet text is too long") == true)
        #expect(try await tweet(String(repeating: "🚀", count: 138) + "👨‍👩‍👧" + "x").status == 200)
        #expect(try await tweet(String(repeating: "🚀", count: 141)).info?.contains("Your Tweet text is too long") == true)
    }

    @Test func pictureUploadsTheMediaWithAltTextAndCanBeAttached() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let url = env.sandbox.mediaURL("logo.png", bytes: 300_000)
        let reply = try await env.push(
            identity, "twitter/picture", #"{"request":{"push":{"picture":{"url":"\#(url)","description":"OneAll Logo"}}}}"#)
        #expect(reply.status == 200)
        let data = try #require(reply.data)
        #expect(data["object"] == "picture")
        let pictureID = try #require(data["picture_id"]?.stringValue)
        #expect(data["picture_location"] == nil)
        try await env.expectStored(reply, route: "twitter/picture", steps: ["media.upload", "media.metadata"])

        let received = env.sandbox.recorder.requests(provider: "x", token: identity.accessToken)
        #expect(received.map(\.path) == ["/2/media/upload", "/2/media/metadata"])
        #expect(received[0].body?["media_category"] == "tweet_image")
        #expect(received[0].body?["media"]?["bytes"] == 300_000)
        #expect(received[0].body?["media"]?["content_type"] == "image/png")
        #expect(received[1].body == ["id": .string(pictureID), "metadata": ["alt_text": ["text": "OneAll Logo"]]])

        // OneAll's SDK sends ids as numbers; they stay exact and reach X as strings.
        let tweet = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"With a picture","attachments":[\#(pictureID)]}}}}"#)
        #expect(tweet.status == 200)
        let last = env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).last
        #expect(last?.body?["media"] == ["media_ids": [.string(pictureID)]])
    }

    @Test func videoIsAsynchronousByDefaultAndStreamsInChunks() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let url = env.sandbox.mediaURL("clip.mp4", bytes: 5_000_000)
        let reply = try await env.push(identity, "twitter/video", #"{"request":{"push":{"video":{"video_url":"\#(url)","callback_url":""}}}}"#)
        #expect(reply.status == 202)
        #expect(reply.flag == "queued")
        #expect(reply.code == 202)
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        #expect(reply.data?["provider"] == "twitter")
        #expect(reply.data?["object"] == "video")
        #expect(reply.data?["status_location"]?.stringValue == "/push/events/\(eventID).json")

        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        let videoID = try #require(event["result"]?["video_id"]?.stringValue)
        #expect(event["result"]?["event_id"]?.stringValue == eventID)

        let received = env.sandbox.recorder.requests(provider: "x", token: identity.accessToken)
        #expect(received.map(\.path) == [
            "/2/media/upload/initialize", "/2/media/upload/\(videoID)/append", "/2/media/upload/\(videoID)/append",
            "/2/media/upload/\(videoID)/finalize", "/2/media/upload",
        ])
        #expect(received[0].body?["media_category"] == "tweet_video")
        #expect(received[0].body?["media_type"] == "video/mp4")
        #expect(received[0].body?["total_bytes"] == 5_000_000)
        #expect(received[1].body?["segment_index"] == "0")
        #expect(received[2].body?["segment_index"] == "1")
        #expect(received.last?.query.contains("command=STATUS") == true)
    }

    @Test func videoWithPreferWaitAnswersWithTheVideoID() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let url = env.sandbox.mediaURL("clip.mov", bytes: 100_000)
        let reply = try await env.push(
            identity, "twitter/video", #"{"request":{"push":{"video":{"url":"\#(url)"}}}}"#, headers: [("Prefer", "wait")])
        #expect(reply.status == 200)
        #expect(reply.data?["object"] == "video")
        #expect(reply.data?["video_id"]?.stringValue?.isEmpty == false)
        try await env.expectStored(
            reply, route: "twitter/video", steps: ["media.initialize", "media.append", "media.finalize", "media.status"])
    }

    @Test func respondAsyncQueuesAnyRouteAndTheEventFinishes() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"later"}}}}"#, headers: [("Prefer", "respond-async")])
        #expect(reply.status == 202)
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        #expect(event["result"]?["object"] == "post")
        #expect(event["finished_at"]?.stringValue != nil)
    }

    @Test func idempotencyKeyReplaysTheFirstReplyAndPublishesOnce() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let key = UUID().uuidString
        let body = #"{"request":{"push":{"post":{"message":"only once"}}}}"#
        let first = try await env.push(identity, "twitter/post", body, headers: [("Idempotency-Key", key)])
        let second = try await env.push(identity, "twitter/post", body, headers: [("Idempotency-Key", key)])
        #expect(first.status == 200)
        #expect(second.status == 200)
        #expect(first.data?["post_id"] == second.data?["post_id"])
        #expect(first.headers.first(name: "PushRelay-Event-Id") == second.headers.first(name: "PushRelay-Event-Id"))
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).count == 1)

        let different = try await env.push(
            identity, "twitter/post", #"{"request":{"push":{"post":{"message":"something else"}}}}"#, headers: [("Idempotency-Key", key)])
        #expect(different.status == 422)
        #expect(different.flag == "error")
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).count == 1)
    }

    @Test func aScheduleInThePastPublishesNow() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"schedule":{"at":"2020-01-01T00:00:00Z"},"push":{"post":{"message":"right away"}}}}"#)
        #expect(reply.status == 200)
        #expect(reply.data?["post_id"]?.stringValue?.isEmpty == false)
    }

    @Test func scheduledRequestWaitsForItsTime() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        // Far enough that the request is answered before it, on a loaded machine too (with 2 s, a full run once
        // took longer, and the publish was made at once: 200).
        let at = RFC3339.format(Date().addingTimeInterval(8))
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"schedule":{"at":"\#(at)"},"push":{"post":{"message":"scheduled"}}}}"#)
        #expect(reply.status == 202)
        #expect(reply.info?.contains("scheduled") == true)
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded")
        let sent = try #require(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).first)
        #expect(sent.receivedAt >= RFC3339.parse(at)!.addingTimeInterval(-0.01))
    }
}
