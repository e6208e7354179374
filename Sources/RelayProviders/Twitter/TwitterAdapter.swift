import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore

/// Publishes to X through API v2 (providers.md §4): tweets, pictures, chunked videos.
public struct TwitterAdapter: ProviderAdapter {
    public let provider = Provider.twitter
    /// Origin (optionally with a path prefix); the documented paths (`/2/tweets`…) are appended.
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// X's picture formats and sizes (providers.md §4.2): images up to 5 MB, GIFs up to 15 MB.
    static let pictureLimits = MediaLimits(
        what: "picture on X",
        types: [.jpeg: 5 * 1_000_000, .png: 5 * 1_000_000, .webp: 5 * 1_000_000, .gif: 15 * 1_000_000])
    /// Videos for tweets: MP4 or MOV, up to 512 MB.
    static let videoLimits = MediaLimits(what: "video on X", types: [.mp4: 512 << 20, .quicktime: 512 << 20])

    public func publish(_ job: PublishJob, session: ProviderSession) async -> PublishOutcome {
        do {
            switch (job.route.operation, job.content) {
            case (.twitterPost, .post(let post)):
                return .succeeded(try await tweet(post, job: job, session: session))
            case (.twitterPicture, .picture(let picture)):
                return .succeeded(try await uploadPicture(picture, job: job, session: session))
            case (.twitterVideo, .video(let video)):
                return .succeeded(try await uploadVideo(video, job: job, session: session))
            default:
                return .failed(.internalError("the X adapter cannot publish \(job.route.path)"))
            }
        } catch {
            return error.outcome
        }
    }

    // MARK: Tweets

    func tweet(_ post: PostContent, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var body: [(String, JSONValue)] = []
        if let message = post.message { body.append(("text", .string(message))) }
        if !post.attachments.isEmpty {
            body.append(("media", ["media_ids": .array(post.attachments.map(JSONValue.string))]))
        }
        if let location = post.location { body.append(("geo", ["place_id": .string(location)])) }
        let request = jsonRequest("/2/tweets", body: .object(body), token: job.credentials.accessToken)
        let response = try await session.call(
            ProviderStep("tweets.create", publishes: true), request,
            summary: ["text_length": .integer(Int64(post.message?.count ?? 0)), "media_ids": .integer(Int64(post.attachments.count))],
            provider: provider, classify: classify)
        guard let id = response.json?["data"]?["id"]?.stringValue else {
            throw unexpected(response, "tweets.create")
        }
        return [
            "provider": "twitter", "object": "post", "post_id": .string(id),
            "post_location": .string("https://twitter.com/i/web/status/\(id)"),
        ]
    }

    // MARK: Pictures

    func uploadPicture(_ picture: PictureContent, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var mediaID = job.progress["media_id"]?.stringValue
        if mediaID == nil {
            let media = try await session.media.open(picture.url, field: "request.push.picture.url", limits: Self.pictureLimits)
            let bytes = try await media.collect()
            var form = MultipartBody()
            form.add(name: "media", filename: "picture", contentType: media.type.mimeType, data: bytes)
            form.add(name: "media_category", value: media.type == .gif ? "tweet_gif" : "tweet_image")
            var request = HTTPClientRequest(url: baseURL + "/2/media/upload")
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(job.credentials.accessToken)")
            request.headers.add(name: "Content-Type", value: form.contentType)
            request.body = .bytes(try encode(form))
            let response = try await session.call(
                ProviderStep("media.upload"), request,
                summary: ["media_type": .string(media.type.mimeType), "bytes": .integer(Int64(bytes.readableBytes))],
                provider: provider, classify: classify)
            guard let id = response.json?["data"]?["id"]?.stringValue else { throw unexpected(response, "media.upload") }
            mediaID = id
            try await session.checkpoint(["media_id": .string(id)])
        }
        let id = mediaID!
        if let description = picture.description {
            let body: JSONValue = ["id": .string(id), "metadata": ["alt_text": ["text": .string(String(description.prefix(1000)))]]]
            _ = try await session.call(
                ProviderStep("media.metadata"), jsonRequest("/2/media/metadata", body: body, token: job.credentials.accessToken),
                summary: ["alt_text_length": .integer(Int64(description.count))], provider: provider, classify: classify)
        }
        return ["provider": "twitter", "object": "picture", "picture_id": .string(id)]
    }

    // MARK: Videos

    /// Chunked upload (initialize, append ≤ 4 MiB segments streamed from the media URL, finalize),
    /// then status polling until X reports processing finished.
    func uploadVideo(_ video: VideoContent, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        let token = job.credentials.accessToken
        var mediaID = job.progress["finalized_media_id"]?.stringValue
        var processing = job.progress["processing"]
        if mediaID == nil {
            let media = try await session.media.open(video.url, field: "request.push.video.video_url", limits: Self.videoLimits)
            guard let total = media.declaredLength else {
                throw PublishStop(
                    .failed(.badRequest("request.push.video.video_url: the media server did not send Content-Length; X needs the size before the upload")))
            }
            let initialize: JSONValue = [
                "media_type": .string(media.type.mimeType), "total_bytes": .integer(Int64(total)),
                "media_category": "tweet_video",
            ]
            let started = try await session.call(
                ProviderStep("media.initialize"), jsonRequest("/2/media/upload/initialize", body: initialize, token: token),
                summary: initialize, provider: provider, classify: classify)
            guard let id = started.json?["data"]?["id"]?.stringValue else { throw unexpected(started, "media.initialize") }
            let chunkSize = max(4 << 20, (total + 998) / 999)
            var segment = 0
            while let chunk = try await media.nextChunk(size: chunkSize) {
                var form = MultipartBody()
                form.add(name: "media", filename: "segment", contentType: "application/octet-stream", data: chunk)
                form.add(name: "segment_index", value: String(segment))
                var request = HTTPClientRequest(url: baseURL + "/2/media/upload/\(id)/append")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                request.headers.add(name: "Content-Type", value: form.contentType)
                request.body = .bytes(try encode(form))
                _ = try await session.call(
                    ProviderStep("media.append"), request,
                    summary: ["segment_index": .integer(Int64(segment)), "bytes": .integer(Int64(chunk.readableBytes))],
                    provider: provider, classify: classify)
                segment += 1
            }
            var finalizeRequest = HTTPClientRequest(url: baseURL + "/2/media/upload/\(id)/finalize")
            finalizeRequest.method = .POST
            finalizeRequest.headers.add(name: "Authorization", value: "Bearer \(token)")
            let finalized = try await session.call(
                ProviderStep("media.finalize"), finalizeRequest, summary: ["segments": .integer(Int64(segment))],
                provider: provider, classify: classify)
            guard finalized.json?["data"]?["id"]?.stringValue != nil else { throw unexpected(finalized, "media.finalize") }
            mediaID = id
            processing = finalized.json?["data"]?["processing_info"]
            try await session.checkpoint(["finalized_media_id": .string(id), "processing": processing ?? .null])
        }
        let id = mediaID!
        try await waitForProcessing(id, initial: processing, token: token, session: session)
        return ["provider": "twitter", "object": "video", "event_id": .string(job.eventID.lowercasedString), "video_id": .string(id)]
    }

    /// Polls `GET /2/media/upload?command=STATUS` as X asks (`check_after_secs`) until `succeeded` or `failed`.
    func waitForProcessing(_ id: String, initial: JSONValue?, token: String, session: ProviderSession) async throws(PublishStop) {
        var info = initial
        let deadline = ContinuousClock.now + .seconds(30 * 60)
        while let current = info, current != .null {
            let state = current["state"]?.stringValue ?? "succeeded"
            if state == "succeeded" { return }
            if state == "failed" {
                let reason = current["error"]?["message"]?.stringValue ?? "X could not process the video"
                throw PublishStop(.failed(RelayError(status: 400, info: "X refused the request: \(reason)")))
            }
            guard ContinuousClock.now < deadline else {
                throw PublishStop(.retry(RelayError(status: 502, info: "X did not finish processing the video in 30 minutes"), notBefore: nil, rateLimited: false))
            }
            var wait = 1
            if case .integer(let seconds)? = current["check_after_secs"] { wait = Int(min(max(seconds, 1), 60)) }
            do { try await Task.sleep(for: .seconds(wait)) } catch {
                throw PublishStop(.retry(RelayError(status: 503, info: "the worker stopped while X was processing the video"), notBefore: nil, rateLimited: false))
            }
            var request = HTTPClientRequest(url: baseURL + "/2/media/upload?command=STATUS&media_id=\(id)")
            request.method = .GET
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await session.call(
                ProviderStep("media.status"), request, summary: ["media_id": .string(id)], provider: provider, classify: classify)
            info = response.json?["data"]?["processing_info"]
        }
    }

    // MARK: Helpers

    func classify(_ response: ProviderResponse, _ now: Date) -> ResponseClassification {
        TwitterResponseClassifier.classify(status: response.status, headers: response.headers, body: response.body, now: now)
    }

    func jsonRequest(_ path: String, body: JSONValue, token: String) -> HTTPClientRequest {
        .jsonPost(baseURL + path, body: body, bearer: token)
    }

    func encode(_ form: MultipartBody) throws(PublishStop) -> ByteBuffer {
        do { return try form.encoded() } catch {
            throw PublishStop(.failed(.internalError("could not encode a multipart body: \(error)")))
        }
    }

    func unexpected(_ response: ProviderResponse, _ step: String) -> PublishStop {
        .unexpected(provider, response, step)
    }
}
