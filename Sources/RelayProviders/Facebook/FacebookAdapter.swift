import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore

/// Publishes to Facebook pages through the Graph API (providers.md §1.3): posts, pictures (one, or
/// several as one multi-photo post, or unpublished to attach later) and videos.
///
/// Every call uses the page's own token: from the identity's accounts (sent in identity-connected), or
/// looked up once with the user token and stored encrypted. Facebook fetches pictures and videos from
/// their URLs itself; when it cannot fetch a video, PushRelay streams it through the resumable upload.
public struct FacebookAdapter: ProviderAdapter {
    public let provider = Provider.facebook
    /// Origin (optionally with a path prefix); `/<version>/<page-id>/…` is appended.
    public let baseURL: String
    /// `PUSHRELAY_FACEBOOK_GRAPH_VERSION`, e.g. `v26.0`.
    public let version: String

    public init(baseURL: String, version: String) {
        self.baseURL = baseURL
        self.version = version
    }

    /// Page videos: MP4 or MOV up to 10 GB (Facebook's limit for page videos).
    static let videoLimits = MediaLimits(what: "video on Facebook", types: [.mp4: 10_000_000_000, .quicktime: 10_000_000_000])

    public func publish(_ job: PublishJob, session: ProviderSession) async -> PublishOutcome {
        do {
            switch job.content {
            case .facebookPagePost(let content):
                let token = try await pageToken(content.pageID, job: job, session: session)
                return .succeeded(try await post(content, token: token, session: session))
            case .facebookPagePicture(let content):
                let token = try await pageToken(content.pageID, job: job, session: session)
                return .succeeded(try await pictures(content, token: token, job: job, session: session))
            case .facebookPageVideo(let content):
                let token = try await pageToken(content.pageID, job: job, session: session)
                return .succeeded(try await video(content, token: token, job: job, session: session))
            default:
                return .failed(.internalError("the Facebook adapter cannot publish \(job.route.path)"))
            }
        } catch {
            return error.outcome
        }
    }

    // MARK: Page token

    /// The page's token: from the identity's accounts, or `GET /{page-id}?fields=access_token` with the user token.
    func pageToken(_ pageID: String, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> String {
        if let token = job.accounts.first(where: { $0.kind == "page" && $0.id == pageID })?.accessToken { return token }
        var request = HTTPClientRequest(url: graph("/\(pageID)?fields=access_token,name"))
        request.method = .GET
        request.headers.add(name: "Authorization", value: "Bearer \(job.credentials.accessToken)")
        let response = try await session.call(
            ProviderStep("page.token", recordsAnswer: false), request, summary: ["page_id": .string(pageID)], provider: provider,
            classify: classify)
        guard let token = response.json?["access_token"]?.stringValue, !token.isEmpty else {
            throw PublishStop(
                .failed(RelayError(status: 403, info: "Facebook gave no token for page \(pageID): the user must administer the page and grant pages_manage_posts")))
        }
        do {
            try await session.store(PublishAccount(kind: "page", id: pageID, name: response.json?["name"]?.stringValue ?? "", accessToken: token))
        } catch {
            session.logger.warning("could not store the page token; it will be looked up again", metadata: ["page_id": "\(pageID)"])
        }
        return token
    }

    // MARK: Posts and pictures

    func post(_ content: FacebookPagePost, token: String, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        let id = try await feed(content.pageID, message: content.post.message, link: content.post.link, media: content.post.attachments, token: token, session: session)
        return [
            "provider": "facebook", "object": "post", "page_id": .string(content.pageID), "post_id": .string(id),
            "post_location": .string("https://www.facebook.com/\(id)"),
        ]
    }

    /// `POST /{page-id}/feed`: text, link, or unpublished photos as `attached_media`.
    func feed(
        _ pageID: String, message: String?, link: String?, media: [String], token: String, session: ProviderSession
    ) async throws(PublishStop) -> String {
        var body: [(String, JSONValue)] = []
        if let message { body.append(("message", .string(message))) }
        if let link { body.append(("link", .string(link))) }
        if !media.isEmpty { body.append(("attached_media", .array(media.map { ["media_fbid": .string($0)] }))) }
        let response = try await session.call(
            ProviderStep("feed.create", publishes: true), .jsonPost(graph("/\(pageID)/feed"), body: .object(body), bearer: token),
            summary: [
                "page_id": .string(pageID), "message_length": .integer(Int64(message?.count ?? 0)),
                "link": link.map(JSONValue.string) ?? .null, "attached_media": .integer(Int64(media.count)),
            ],
            provider: provider, classify: classify)
        guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "feed.create") }
        return id
    }

    /// One picture: one `POST /photos`. Several: each uploaded unpublished, then one feed post attaching them.
    func pictures(_ content: FacebookPagePicture, token: String, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var data: [(String, JSONValue)] = [("provider", "facebook"), ("object", "picture"), ("page_id", .string(content.pageID))]
        if content.urls.count == 1 {
            var body: [(String, JSONValue)] = [("url", .string(content.urls[0]))]
            if let caption = content.description { body.append(("caption", .string(caption))) }
            body.append(("published", .bool(content.createPost)))
            let response = try await session.call(
                ProviderStep("photos.create", publishes: content.createPost), .jsonPost(graph("/\(content.pageID)/photos"), body: .object(body), bearer: token),
                summary: ["page_id": .string(content.pageID), "published": .bool(content.createPost)], provider: provider, classify: classify)
            guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "photos.create") }
            data.append(("picture_id", .string(id)))
            data.append(("picture_location", .string("https://www.facebook.com/\(id)")))
            if let postID = response.json?["post_id"]?.stringValue {
                data.append(("post_id", .string(postID)))
                data.append(("post_location", .string("https://www.facebook.com/\(postID)")))
            }
            return .object(data)
        }
        var ids = (job.progress["photo_ids"]?.arrayValue ?? []).compactMap(\.stringValue)
        for url in content.urls.dropFirst(ids.count) {
            let body: JSONValue = ["url": .string(url), "published": false]
            let response = try await session.call(
                ProviderStep("photos.create"), .jsonPost(graph("/\(content.pageID)/photos"), body: body, bearer: token),
                summary: ["page_id": .string(content.pageID), "published": false], provider: provider, classify: classify)
            guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "photos.create") }
            ids.append(id)
            try await session.checkpoint(["photo_ids": .array(ids.map(JSONValue.string))])
        }
        data.append(("picture_id", .string(ids[0])))
        data.append(("picture_location", .string("https://www.facebook.com/\(ids[0])")))
        data.append(("picture_ids", .array(ids.map(JSONValue.string))))
        if content.createPost {
            let postID = try await feed(content.pageID, message: content.description, link: nil, media: ids, token: token, session: session)
            data.append(("post_id", .string(postID)))
            data.append(("post_location", .string("https://www.facebook.com/\(postID)")))
        }
        return .object(data)
    }

    // MARK: Videos

    /// `POST /{page-id}/videos` with `file_url`; if Facebook cannot fetch it, the resumable upload. Then the
    /// video is polled until Facebook reports it ready.
    func video(_ content: FacebookPageVideo, token: String, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var videoID = job.progress["video_id"]?.stringValue
        if videoID == nil {
            do {
                videoID = try await videoByURL(content, token: token, session: session)
            } catch let stop where Self.couldNotFetch(stop) {
                session.logger.info("Facebook could not fetch the video; uploading it", metadata: ["page_id": "\(content.pageID)"])
                videoID = try await uploadVideo(content, token: token, job: job, session: session)
            }
            try await session.checkpoint(["video_id": .string(videoID!)])
        }
        let id = videoID!
        try await waitUntilReady(id, token: token, session: session)
        return [
            "provider": "facebook", "object": "video", "page_id": .string(content.pageID), "video_id": .string(id),
            "video_location": .string("https://www.facebook.com/\(content.pageID)/videos/\(id)"),
        ]
    }

    func videoByURL(_ content: FacebookPageVideo, token: String, session: ProviderSession) async throws(PublishStop) -> String {
        var body: [(String, JSONValue)] = [("file_url", .string(content.video.url))]
        if let title = content.video.title { body.append(("title", .string(title))) }
        if let description = content.video.description { body.append(("description", .string(description))) }
        let response = try await session.call(
            ProviderStep("videos.create", publishes: true), .jsonPost(graph("/\(content.pageID)/videos"), body: .object(body), bearer: token),
            summary: ["page_id": .string(content.pageID), "source": "file_url"], provider: provider, classify: classify)
        guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "videos.create") }
        return id
    }

    /// Facebook's "cannot fetch the file" answers (code 389, or 6000 with a fetch message).
    static func couldNotFetch(_ stop: PublishStop) -> Bool {
        guard case .failed(let error) = stop.outcome else { return false }
        return error.info.contains("(#389)") || error.info.lowercased().contains("unable to fetch")
    }

    /// Resumable upload (`upload_phase` start → transfer… → finish), chunks streamed as Facebook asks for them.
    func uploadVideo(_ content: FacebookPageVideo, token: String, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> String {
        let media = try await session.media.open(content.video.url, field: "request.push.video.url", limits: Self.videoLimits)
        guard let total = media.declaredLength else {
            throw PublishStop(.failed(.badRequest("request.push.video.url: the media server did not send Content-Length; Facebook needs the size before the upload")))
        }
        let endpoint = graph("/\(content.pageID)/videos")
        let started = try await session.call(
            ProviderStep("videos.uploadStart"), .jsonPost(endpoint, body: ["upload_phase": "start", "file_size": .integer(Int64(total))], bearer: token),
            summary: ["bytes": .integer(Int64(total))], provider: provider, classify: classify)
        guard let sessionID = started.json?["upload_session_id"]?.stringValue, let videoID = started.json?["video_id"]?.stringValue else {
            throw .unexpected(provider, started, "videos.uploadStart")
        }
        var start = Self.offset(started.json?["start_offset"]) ?? 0
        var end = Self.offset(started.json?["end_offset"]) ?? total
        while start < end {
            guard let chunk = try await media.nextChunk(size: end - start), chunk.readableBytes == end - start else {
                throw PublishStop(.retry(RelayError(status: 502, info: "request.push.video.url ended before byte \(end)"), notBefore: nil, rateLimited: false))
            }
            var form = MultipartBody()
            form.add(name: "upload_phase", value: "transfer")
            form.add(name: "upload_session_id", value: sessionID)
            form.add(name: "start_offset", value: String(start))
            form.add(name: "video_file_chunk", filename: "chunk", contentType: "application/octet-stream", data: chunk)
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: form.contentType)
            do { request.body = .bytes(try form.encoded()) } catch {
                throw PublishStop(.failed(.internalError("could not encode a multipart body: \(error)")))
            }
            let transferred = try await session.call(
                ProviderStep("videos.uploadTransfer"), request, summary: ["start_offset": .integer(Int64(start)), "bytes": .integer(Int64(chunk.readableBytes))],
                provider: provider, classify: classify)
            start = Self.offset(transferred.json?["start_offset"]) ?? end
            end = Self.offset(transferred.json?["end_offset"]) ?? end
        }
        var finish: [(String, JSONValue)] = [("upload_phase", "finish"), ("upload_session_id", .string(sessionID))]
        if let title = content.video.title { finish.append(("title", .string(title))) }
        if let description = content.video.description { finish.append(("description", .string(description))) }
        _ = try await session.call(
            ProviderStep("videos.uploadFinish", publishes: true), .jsonPost(endpoint, body: .object(finish), bearer: token),
            summary: ["video_id": .string(videoID)], provider: provider, classify: classify)
        return videoID
    }

    /// Offsets come as strings of digits.
    static func offset(_ value: JSONValue?) -> Int? {
        switch value {
        case .string(let text)?: Int(text)
        case .integer(let number)?: Int(number)
        default: nil
        }
    }

    /// `GET /{video-id}?fields=status` until `video_status` is `ready` (or `error`).
    func waitUntilReady(_ videoID: String, token: String, session: ProviderSession) async throws(PublishStop) {
        var wait: Duration = .seconds(2)
        let deadline = ContinuousClock.now + .seconds(60 * 60)
        while true {
            var request = HTTPClientRequest(url: graph("/\(videoID)?fields=status"))
            request.method = .GET
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await session.call(
                ProviderStep("videos.status"), request, summary: ["video_id": .string(videoID)], provider: provider, classify: classify)
            switch response.json?["status"]?["video_status"]?.stringValue {
            case "ready"?: return
            case "error"?:
                throw PublishStop(.failed(RelayError(status: 400, info: "Facebook could not process the video")))
            default: break
            }
            guard ContinuousClock.now < deadline else {
                throw PublishStop(.retry(RelayError(status: 502, info: "Facebook did not finish processing the video in an hour"), notBefore: nil, rateLimited: false))
            }
            do { try await Task.sleep(for: wait) } catch {
                throw PublishStop(.retry(RelayError(status: 503, info: "the worker stopped while Facebook was processing the video"), notBefore: nil, rateLimited: false))
            }
            wait = min(wait * 2, .seconds(30))
        }
    }

    // MARK: Helpers

    func graph(_ path: String) -> String { "\(baseURL)/\(version)\(path)" }

    func classify(_ response: ProviderResponse, _ now: Date) -> ResponseClassification {
        FacebookResponseClassifier.classify(status: response.status, headers: response.headers, body: response.body, now: now)
    }
}
