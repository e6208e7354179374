import Foundation
import ProviderSandbox
import RelayCore
import Testing
import TestSupport

/// The Facebook page routes through the real server, a real PostgreSQL and the sandbox (providers.md §1.3).
@Suite struct FacebookPageRouteTests {
    static let pageID = "1212121212"

    /// A Facebook identity whose page token came in identity-connected.
    func identityWithPage(_ env: TestEnvironment) async throws -> (TestIdentity, pageToken: String) {
        let pageToken = "page-\(Self.pageID)-\(UUID().uuidString)"
        let identity = try await env.connectIdentity(
            provider: "facebook", accounts: #"[{"kind":"page","id":"\#(Self.pageID)","name":"Fans","access_token":"\#(pageToken)"}]"#)
        return (identity, pageToken)
    }

    @Test func postUsesThePageTokenFromTheAccounts() async throws {
        let env = try await TestEnvironment.shared.value
        let (identity, pageToken) = try await identityWithPage(env)
        let reply = try await env.push(
            identity, "facebook/page/post",
            #"{"request":{"push":{"page":{"id":"\#(Self.pageID)","message":"Hello fans! \#(UUID())","link":"https://www.oneall.com/","attachments":[]}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let data = try #require(reply.data)
        #expect(data["object"] == "post")
        #expect(data["page_id"]?.stringValue == Self.pageID)
        let postID = try #require(data["post_id"]?.stringValue)
        #expect(postID.hasPrefix("\(Self.pageID)_"))
        #expect(data["post_location"]?.stringValue == "https://www.facebook.com/\(postID)")
        try await env.expectStored(reply, route: "facebook/page/post", steps: ["feed.create"])
        let sent = try #require(env.sandbox.recorder.requests(provider: "facebook", token: pageToken).first)
        #expect(sent.path == "/v26.0/\(Self.pageID)/feed")
        #expect(sent.body?["link"] == "https://www.oneall.com/")
        #expect(env.sandbox.recorder.requests(provider: "facebook", token: identity.accessToken).isEmpty, "no lookup with the user token")
    }

    @Test func pageTokenIsLookedUpOnceAndKept() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "facebook")
        let first = try await env.push(identity, "facebook/page/post", #"{"request":{"push":{"page":{"id":"42"},"post":{"message":"split form \#(UUID())"}}}}"#)
        #expect(first.status == 200, "\(first.text)")
        let second = try await env.push(identity, "facebook/page/post", #"{"request":{"push":{"page":{"id":"42","message":"again \#(UUID())"}}}}"#)
        #expect(second.status == 200, "\(second.text)")
        let lookups = env.sandbox.recorder.requests(provider: "facebook", token: identity.accessToken)
        #expect(lookups.map(\.path) == ["/v26.0/42"])
        #expect(env.sandbox.recorder.requests(provider: "facebook", token: "page-42-\(identity.accessToken)").map(\.path) == ["/v26.0/42/feed", "/v26.0/42/feed"])
        let shown = try await env.send(.GET, "/identities/\(identity.token).json")
        #expect(shown.data?["accounts"] == [["kind": "page", "id": "42", "name": "Page 42", "has_access_token": true]])
        #expect(!shown.text.contains("page-42-"))
    }

    @Test func onePictureUnpublishedThenAttached() async throws {
        let env = try await TestEnvironment.shared.value
        let (identity, pageToken) = try await identityWithPage(env)
        let picture = try await env.push(
            identity, "facebook/page/picture", #"{"request":{"push":{"page":{"id":"\#(Self.pageID)","url":"https://example.com/p.jpg","description":"Stadium","create_post":false}}}}"#)
        #expect(picture.status == 200, "\(picture.text)")
        let pictureID = try #require(picture.data?["picture_id"]?.stringValue)
        #expect(picture.data?["post_id"] == nil)
        try await env.expectStored(picture, route: "facebook/page/picture", steps: ["photos.create"])
        let post = try await env.push(
            identity, "facebook/page/post", #"{"request":{"push":{"page":{"id":"\#(Self.pageID)","message":"With a picture \#(UUID())","attachments":[\#(pictureID)]}}}}"#)
        #expect(post.status == 200, "\(post.text)")
        let sent = env.sandbox.recorder.requests(provider: "facebook", token: pageToken)
        #expect(sent[0].body == ["url": "https://example.com/p.jpg", "caption": "Stadium", "published": false])
        #expect(sent[1].body?["attached_media"] == [["media_fbid": .string(pictureID)]])
    }

    @Test func severalPicturesBecomeOneMultiPhotoPost() async throws {
        let env = try await TestEnvironment.shared.value
        let (identity, pageToken) = try await identityWithPage(env)
        let reply = try await env.push(
            identity, "facebook/page/picture",
            #"{"request":{"push":{"page":{"id":"\#(Self.pageID)"},"picture":{"url":["https://example.com/a.jpg","https://example.com/b.png"],"description":"Album \#(UUID())"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let ids = try #require(reply.data?["picture_ids"]?.arrayValue)
        #expect(ids.count == 2)
        #expect(reply.data?["post_id"]?.stringValue?.hasPrefix("\(Self.pageID)_") == true)
        try await env.expectStored(reply, route: "facebook/page/picture", steps: ["photos.create", "photos.create", "feed.create"])
        let sent = env.sandbox.recorder.requests(provider: "facebook", token: pageToken)
        #expect(sent.map(\.path) == ["/v26.0/\(Self.pageID)/photos", "/v26.0/\(Self.pageID)/photos", "/v26.0/\(Self.pageID)/feed"])
        #expect(sent[0].body?["published"] == false)
        #expect(sent[2].body?["attached_media"] == .array(ids.map { ["media_fbid": $0] }))
    }

    @Test func videoByURLThenReady() async throws {
        let env = try await TestEnvironment.shared.value
        let (identity, pageToken) = try await identityWithPage(env)
        let url = env.sandbox.mediaURL("clip.mp4", bytes: 1_000_000)
        let reply = try await env.push(
            identity, "facebook/page/video", #"{"request":{"push":{"page":{"id":"\#(Self.pageID)"},"video":{"url":"\#(url)","title":"Launch","description":"Our launch video"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let videoID = try #require(reply.data?["video_id"]?.stringValue)
        #expect(reply.data?["video_location"]?.stringValue == "https://www.facebook.com/\(Self.pageID)/videos/\(videoID)")
        try await env.expectStored(reply, route: "facebook/page/video", steps: ["videos.create", "videos.status"])
        let sent = env.sandbox.recorder.requests(provider: "facebook", token: pageToken)
        #expect(sent.map(\.path) == ["/v26.0/\(Self.pageID)/videos", "/v26.0/\(videoID)"])
        #expect(sent[0].body == ["file_url": .string(url), "title": "Launch", "description": "Our launch video"])
    }

    @Test func videoFacebookCannotFetchIsUploadedInChunks() async throws {
        let env = try await TestEnvironment.shared.value
        let (identity, pageToken) = try await identityWithPage(env)
        // "localhost" is reachable from PushRelay but, in the sandbox's play, not from Facebook.
        let url = env.sandbox.mediaURL("clip.mp4", bytes: 5_000_000).replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let reply = try await env.push(
            identity, "facebook/page/video", #"{"request":{"push":{"page":{"id":"\#(Self.pageID)","url":"\#(url)"}}}}"#,
            headers: [("Prefer", "respond-async")])
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded", "\(event.serialized())")
        let sent = env.sandbox.recorder.requests(provider: "facebook", token: pageToken)
        let phases = sent.map { $0.body?["upload_phase"]?.stringValue ?? ($0.body?["file_url"] != nil ? "file_url" : $0.method) }
        #expect(phases == ["file_url", "start", "transfer", "transfer", "finish", "GET"])
        let attempts = try #require(event["attempts"]?.arrayValue)
        #expect(attempts.first?["outcome"] == "permanent")
        #expect(attempts.last?["outcome"] == "succeeded")
    }

    @Test func refusalsKeepFacebooksMessage() async throws {
        let env = try await TestEnvironment.shared.value
        let (identity, _) = try await identityWithPage(env)
        let body = #"{"request":{"push":{"page":{"id":"\#(Self.pageID)","message":"twice \#(UUID())"}}}}"#
        #expect(try await env.push(identity, "facebook/page/post", body).status == 200)
        let duplicate = try await env.push(identity, "facebook/page/post", body)
        #expect(duplicate.status == 409)
        #expect(duplicate.info == "Facebook refused the request: (#506) Duplicate status message")

        let invalid = try await env.push(identity, "facebook/page/post", #"{"request":{"push":{"page":{"id":"abc","message":"x"}}}}"#)
        #expect(invalid.status == 400)
        #expect(invalid.info?.contains("request.push.page.id") == true)
    }
}
