import Foundation
import ProviderSandbox
import RelayCore
import RelayProviders
import Testing
import TestSupport

/// The YouTube routes through the real server, a real PostgreSQL and the sandbox (providers.md §5).
@Suite struct YouTubeRouteTests {
    /// Uploads a video through the relay (waiting for the outcome) and returns its id.
    func uploadVideo(_ env: TestEnvironment, _ identity: TestIdentity, bytes: Int = 3_000_000) async throws -> String {
        let url = env.sandbox.mediaURL("clip.mp4", bytes: bytes)
        let reply = try await env.push(
            identity, "youtube/video", #"{"request":{"push":{"video":{"video_url":"\#(url)","title":"Launch"}}}}"#, headers: [("Prefer", "wait")])
        #expect(reply.status == 200, "\(reply.text)")
        try await env.expectStored(reply, route: "youtube/video", steps: ["videos.insert", "videos.upload", "videos.status"])
        return try #require(reply.data?["video_id"]?.stringValue)
    }

    @Test func videoIsAsynchronousByDefaultAndUploadedThroughAResumableSession() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "youtube")
        let url = env.sandbox.mediaURL("clip.mp4", bytes: 20_000_000)
        let thumbnail = env.sandbox.mediaURL("thumb.jpg", bytes: 30_000)
        let reply = try await env.push(
            identity, "youtube/video",
            #"{"request":{"push":{"video":{"video_url":"\#(url)","title":"Launch","description":"Our launch","thumbnail_url":"\#(thumbnail)","callback_url":"","tags":["a","b"]}}}}"#)
        #expect(reply.status == 202)
        #expect(reply.flag == "queued")
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded", "\(event.serialized())")
        let videoID = try #require(event["result"]?["video_id"]?.stringValue)
        #expect(event["result"]?["video_location"]?.stringValue == "https://www.youtube.com/watch?v=\(videoID)")
        #expect(event["result"]?["thumbnail_error"] == nil)

        let sent = env.sandbox.recorder.requests(provider: "youtube", token: identity.accessToken)
        #expect(sent.map(\.path) == [
            "/upload/youtube/v3/videos", "/upload/youtube/v3/videos", "/upload/youtube/v3/videos", "/upload/youtube/v3/videos",
            "/youtube/v3/videos", "/upload/youtube/v3/thumbnails/set",
        ])
        let open = sent[0]
        #expect(open.method == "POST")
        #expect(open.query.contains("uploadType=resumable"))
        #expect(open.header("x-upload-content-length") == "20000000")
        #expect(open.header("x-upload-content-type") == "video/mp4")
        #expect(open.body?["snippet"] == ["title": "Launch", "description": "Our launch", "tags": ["a", "b"]])
        #expect(open.body?["status"] == ["privacyStatus": "public"])
        #expect(sent[1...3].map { $0.header("content-range") } == [
            "bytes 0-8388607/20000000", "bytes 8388608-16777215/20000000", "bytes 16777216-19999999/20000000",
        ])
        #expect(sent[1...3].allSatisfy { $0.method == "PUT" })
        #expect(sent[5].query == "videoId=\(videoID)")
    }

    @Test func anInterruptedUploadResumesFromTheAcknowledgedByte() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "youtube")
        // The second chunk's answer is lost: the next try asks the session where it stands and goes on from there.
        env.sandbox.faults.add(SandboxFault(provider: "youtube", pathContains: "/upload/youtube/v3/videos", method: "PUT", token: identity.accessToken, times: 1, action: .respond(status: 503, body: ["error": ["code": 503, "message": "Backend Error", "errors": [["reason": "backendError"]]]], headers: [])))
        let url = env.sandbox.mediaURL("clip.mov", bytes: 9_000_000)
        let reply = try await env.push(
            identity, "youtube/video", #"{"request":{"push":{"video":{"video_url":"\#(url)","title":"Resumed","privacy_status":"unlisted"}}}}"#,
            headers: [("Prefer", "respond-async")])
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.finalEvent(eventID)
        #expect(event["state"] == "succeeded", "\(event.serialized())")
        let sent = env.sandbox.recorder.requests(provider: "youtube", token: identity.accessToken)
        let puts = sent.filter { $0.method == "PUT" }.map { $0.header("content-range") ?? "" }
        // Try 1: the first chunk fails (503). Try 2: status query, then the whole file from byte 0 in two chunks.
        #expect(puts == ["bytes 0-8388607/9000000", "bytes */9000000", "bytes 0-8388607/9000000", "bytes 8388608-8999999/9000000"])
        #expect(sent.filter { $0.method == "POST" && $0.path == "/upload/youtube/v3/videos" }.count == 1, "one upload session only")
        let attempts = try #require(event["attempts"]?.arrayValue)
        #expect(attempts.first { $0["step"] == "videos.upload" }?["outcome"] == "retryable")
    }

    @Test func playlistThenVideoThenSection() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "youtube")
        let playlist = try await env.push(
            identity, "youtube/playlist",
            #"{"request":{"push":{"playlist":{"title":"My PlayList","description":"Awesome Mix 1","privacy_status":"public","default_language":"en"}}}}"#)
        #expect(playlist.status == 200, "\(playlist.text)")
        let playlistID = try #require(playlist.data?["playlist_id"]?.stringValue)
        #expect(playlist.data?["object"] == "playlist")
        #expect(playlist.data?["playlist_location"]?.stringValue == "https://www.youtube.com/playlist?list=\(playlistID)")
        try await env.expectStored(playlist, route: "youtube/playlist", steps: ["playlists.insert"])

        let videoID = try await uploadVideo(env, identity)
        let item = try await env.push(identity, "youtube/playlist/\(playlistID)/video", #"{"request":{"push":{"video":{"id":"\#(videoID)","position":0}}}}"#)
        #expect(item.status == 200, "\(item.text)")
        #expect(item.data?["playlist_id"]?.stringValue == playlistID)
        #expect(item.data?["video_id"]?.stringValue == videoID)
        #expect(item.data?["playlist_item_id"]?.stringValue?.isEmpty == false)
        try await env.expectStored(item, route: "youtube/playlist/\(playlistID)/video", steps: ["playlistItems.insert"])
        let again = try await env.push(identity, "youtube/playlist/\(playlistID)/video", #"{"request":{"push":{"video":{"video_id":"\#(videoID)"}}}}"#)
        #expect(again.status == 409)

        let section = try await env.push(
            identity, "youtube/channel/section", #"{"request":{"push":{"channel":{"section":{"type":"singlePlaylist","position":0,"playlists":["\#(playlistID)"]}}}}}"#)
        #expect(section.status == 200, "\(section.text)")
        #expect(section.data?["object"] == "section")
        #expect(section.data?["section_id"]?.stringValue?.hasPrefix("UC") == true)
        try await env.expectStored(section, route: "youtube/channel/section", steps: ["channelSections.insert"])

        let sent = env.sandbox.recorder.requests(provider: "youtube", token: identity.accessToken)
        let insert = try #require(sent.first { $0.path == "/youtube/v3/playlistItems" })
        #expect(insert.query == "part=snippet")
        #expect(insert.body == ["snippet": ["playlistId": .string(playlistID), "resourceId": ["kind": "youtube#video", "videoId": .string(videoID)], "position": 0]])
        let sectionCall = try #require(sent.first { $0.path == "/youtube/v3/channelSections" })
        #expect(sectionCall.body == ["snippet": ["type": "singlePlaylist", "position": 0], "contentDetails": ["playlists": [.string(playlistID)]]])
    }

    @Test func badRequestsAre400NamingTheField() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "youtube")
        let cases: [(String, String, String)] = [
            ("youtube/video", #"{"request":{"push":{"video":{"video_url":"https://a.com/v.mp4"}}}}"#, "request.push.video.title"),
            ("youtube/video", #"{"request":{"push":{"video":{"title":"t"}}}}"#, "request.push.video.video_url"),
            ("youtube/video", #"{"request":{"push":{"video":{"video_url":"https://a.com/v.mp4","title":"<b>"}}}}"#, "< or >"),
            ("youtube/video", #"{"request":{"push":{"video":{"video_url":"https://a.com/v.mp4","title":"t","privacy_status":"friends"}}}}"#, "privacy_status"),
            ("youtube/playlist/PL1/video", #"{"request":{"push":{"video":{"position":1}}}}"#, "request.push.video.id"),
            ("youtube/playlist/PL1/video", #"{"request":{"push":{"video":{"id":"x","position":-1}}}}"#, "position"),
            ("youtube/playlist", #"{"request":{"push":{"playlist":{"description":"no title"}}}}"#, "request.push.playlist.title"),
            ("youtube/channel/section", #"{"request":{"push":{"channel":{"section":{"type":"likes"}}}}}"#, "request.push.channel.section.type"),
            ("youtube/channel/section", #"{"request":{"push":{"section":{"type":"singlePlaylist","playlists":[]}}}}"#, "exactly one playlist"),
            ("youtube/channel/section", #"{"request":{"push":{"section":{"type":"multipleChannels","channels":["UC1"]}}}}"#, "title"),
        ]
        for (route, body, mention) in cases {
            let reply = try await env.push(identity, route, body)
            #expect(reply.status == 400, "\(route) \(body): \(reply.text)")
            #expect(reply.info?.contains(mention) == true, "\(reply.info ?? "")")
        }
        #expect(env.sandbox.recorder.requests(provider: "youtube", token: identity.accessToken).isEmpty)
    }

    @Test func quotaExceededWaitsForTheDailyReset() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "youtube")
        env.sandbox.faults.add(
            SandboxFault(
                provider: "youtube", pathContains: "/youtube/v3/playlists", token: identity.accessToken,
                action: .respond(status: 403, body: ["error": ["code": 403, "message": "quota", "errors": [["reason": "quotaExceeded"]]]], headers: [])))
        let reply = try await env.push(
            identity, "youtube/playlist", #"{"request":{"push":{"playlist":{"title":"Later"}}}}"#, headers: [("Prefer", "respond-async")])
        let eventID = try #require(reply.data?["event_id"]?.stringValue)
        let event = try await env.eventWithAttempts(eventID)
        let rows = try await env.store.client.query(
            "SELECT state, run_at > now() + interval '1 minute' FROM publish_jobs WHERE event_id = \(UUID(uuidString: eventID)!)")
        for try await (state, later) in rows.decode((String, Bool).self) {
            #expect(state == "queued")
            #expect(later, "the job waits for the quota reset")
        }
        #expect(event.data?["attempts"]?.arrayValue?.first?["outcome"] == "rate_limited")
    }
}
