import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore

/// Publishes to YouTube through the Data API v3 (providers.md §5): resumable video uploads streamed
/// from the media URL, playlist items, playlists and channel sections.
public struct YouTubeAdapter: ProviderAdapter {
    public let provider = Provider.youtube
    /// Origin (optionally with a path prefix); `/youtube/v3/…` and `/upload/youtube/v3/…` are appended.
    public let baseURL: String
    /// Bytes per upload request: a multiple of 256 KiB, as YouTube requires of every chunk but the last.
    let chunkSize: Int

    public init(baseURL: String, chunkSize: Int = 8 << 20) {
        self.baseURL = baseURL
        self.chunkSize = max(256 << 10, chunkSize / (256 << 10) * (256 << 10))
    }

    /// YouTube takes files up to 256 GB (discovery `maxSize`).
    static let videoLimits = MediaLimits(what: "video on YouTube", types: [.mp4: 256_000_000_000, .quicktime: 256_000_000_000])
    /// Custom thumbnails: JPEG or PNG up to 2 MB.
    static let thumbnailLimits = MediaLimits(what: "YouTube thumbnail", types: [.jpeg: 2_000_000, .png: 2_000_000])

    public func publish(_ job: PublishJob, session: ProviderSession) async -> PublishOutcome {
        let token = job.credentials.accessToken
        do {
            switch job.content {
            case .youtubeVideo(let video): return .succeeded(try await upload(video, job: job, session: session))
            case .playlistItem(let item): return .succeeded(try await addToPlaylist(item, token: token, session: session))
            case .playlist(let playlist): return .succeeded(try await createPlaylist(playlist, token: token, session: session))
            case .channelSection(let section): return .succeeded(try await addSection(section, token: token, session: session))
            default: return .failed(.internalError("the YouTube adapter cannot publish \(job.route.path)"))
            }
        } catch {
            return error.outcome
        }
    }

    // MARK: Videos

    /// Where an upload stands, saved after every step so a retry or a restart resumes from the byte
    /// YouTube acknowledged instead of starting over.
    struct UploadProgress {
        var sessionURL: String?
        var total: Int?
        var videoID: String?

        init(_ json: JSONValue) {
            sessionURL = json["session_url"]?.stringValue
            if case .integer(let total)? = json["total"] { self.total = Int(total) }
            videoID = json["video_id"]?.stringValue
        }

        var json: JSONValue {
            [
                "session_url": sessionURL.map(JSONValue.string) ?? .null, "total": total.map { .integer(Int64($0)) } ?? .null,
                "video_id": videoID.map(JSONValue.string) ?? .null,
            ]
        }
    }

    func upload(_ video: YouTubeVideoContent, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        let token = job.credentials.accessToken
        var progress = UploadProgress(job.progress)
        if progress.videoID == nil {
            progress.videoID = try await sendBytes(video, progress: &progress, token: token, session: session)
            try await session.checkpoint(progress.json)
        }
        let videoID = progress.videoID!
        try await waitForProcessing(videoID, token: token, session: session)
        var result: [(String, JSONValue)] = [
            ("provider", "youtube"), ("object", "video"), ("event_id", .string(job.eventID.lowercasedString)),
            ("video_id", .string(videoID)), ("video_location", .string("https://www.youtube.com/watch?v=\(videoID)")),
        ]
        if let thumbnail = video.thumbnailURL {
            do {
                try await setThumbnail(thumbnail, videoID: videoID, token: token, session: session)
            } catch {
                // The video is published: a thumbnail YouTube refuses for good is reported, not a failure.
                guard case .failed(let refusal) = error.outcome else { throw error }
                session.logger.warning("thumbnail refused", metadata: ["video_id": "\(videoID)", "info": "\(refusal.info)"])
                result.append(("thumbnail_error", .string(refusal.info)))
            }
        }
        return .object(result)
    }

    /// Opens (or resumes) the upload session and streams the file through it; returns the video id.
    func sendBytes(
        _ video: YouTubeVideoContent, progress: inout UploadProgress, token: String, session: ProviderSession
    ) async throws(PublishStop) -> String {
        let media = try await session.media.open(video.url, field: "request.push.video.video_url", limits: Self.videoLimits)
        guard let total = media.declaredLength else {
            throw PublishStop(
                .failed(.badRequest("request.push.video.video_url: the media server did not send Content-Length; YouTube needs the size before the upload")))
        }
        var offset = 0
        if let sessionURL = progress.sessionURL, progress.total == total {
            switch try await uploadStatus(sessionURL, total: total, token: token, session: session) {
            case .complete(let id): return id
            case .received(let bytes): offset = bytes
            case .gone: progress.sessionURL = nil
            }
        }
        if progress.sessionURL == nil {
            progress.sessionURL = try await openSession(video, total: total, contentType: media.type.mimeType, token: token, session: session)
            progress.total = total
            try await session.checkpoint(progress.json)
        }
        let sessionURL = progress.sessionURL!
        // Resuming: skip what YouTube already has (read and dropped, memory stays bounded).
        var skipped = 0
        while skipped < offset, let chunk = try await media.nextChunk(size: min(chunkSize, offset - skipped)) { skipped += chunk.readableBytes }
        while let chunk = try await media.nextChunk(size: chunkSize) {
            let first = offset
            let last = offset + chunk.readableBytes - 1
            var request = HTTPClientRequest(url: sessionURL)
            request.method = .PUT
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: media.type.mimeType)
            request.headers.add(name: "Content-Range", value: "bytes \(first)-\(last)/\(total)")
            request.body = .bytes(chunk)
            let response = try await session.call(
                ProviderStep("videos.upload"), request, summary: ["range": .string("\(first)-\(last)/\(total)")], provider: provider,
                classify: classifyUpload)
            if response.status == 308 {
                offset = Self.acknowledged(response).map { $0 + 1 } ?? 0
                if offset != last + 1 {
                    // YouTube kept less than was sent; the stream cannot rewind, so the next try resumes from its count.
                    throw PublishStop(
                        .retry(RelayError(status: 502, info: "YouTube kept \(offset) of \(last + 1) bytes; the upload will resume"), notBefore: nil, rateLimited: false))
                }
                continue
            }
            guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "videos.upload") }
            return id
        }
        throw PublishStop(.retry(RelayError(status: 502, info: "YouTube did not confirm the upload after the last byte"), notBefore: nil, rateLimited: false))
    }

    /// `POST /upload/youtube/v3/videos?uploadType=resumable`: the session URL comes back in `Location`.
    func openSession(
        _ video: YouTubeVideoContent, total: Int, contentType: String, token: String, session: ProviderSession
    ) async throws(PublishStop) -> String {
        var snippet: [(String, JSONValue)] = [("title", .string(video.title))]
        if let description = video.description { snippet.append(("description", .string(description))) }
        if !video.tags.isEmpty { snippet.append(("tags", .array(video.tags.map(JSONValue.string)))) }
        let body: JSONValue = ["snippet": .object(snippet), "status": ["privacyStatus": .string(video.privacy.rawValue)]]
        var request = HTTPClientRequest.jsonPost(
            baseURL + "/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status", body: body, bearer: token)
        request.headers.replaceOrAdd(name: "Content-Type", value: "application/json; charset=UTF-8")
        request.headers.add(name: "X-Upload-Content-Length", value: String(total))
        request.headers.add(name: "X-Upload-Content-Type", value: contentType)
        let response = try await session.call(
            ProviderStep("videos.insert"), request, summary: ["bytes": .integer(Int64(total)), "privacy": .string(video.privacy.rawValue)],
            provider: provider, classify: classify)
        guard let location = response.header("location"), !location.isEmpty else {
            throw PublishStop(.failed(RelayError(status: 502, info: "YouTube opened no upload session (no Location header)")))
        }
        return location
    }

    enum UploadStatus {
        case complete(String)
        case received(Int)
        case gone
    }

    /// `PUT <session>` with `Content-Range: bytes */total`: how much YouTube has (providers.md §5.1, step 4).
    func uploadStatus(_ sessionURL: String, total: Int, token: String, session: ProviderSession) async throws(PublishStop) -> UploadStatus {
        var request = HTTPClientRequest(url: sessionURL)
        request.method = .PUT
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Range", value: "bytes */\(total)")
        request.headers.add(name: "Content-Length", value: "0")
        let response = try await session.call(
            ProviderStep("videos.uploadStatus"), request, summary: ["total": .integer(Int64(total))], provider: provider,
            classify: { answer, now in
                answer.status == 404 || answer.status == 410
                    ? ResponseClassification(kind: .success, message: "session expired", replyStatus: answer.status)
                    : classifyUpload(answer, now)
            })
        switch response.status {
        case 308: return .received((Self.acknowledged(response) ?? -1) + 1)
        case 404, 410: return .gone
        default:
            guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "videos.uploadStatus") }
            return .complete(id)
        }
    }

    /// The last byte YouTube holds, from `Range: bytes=0-N` of a 308.
    static func acknowledged(_ response: ProviderResponse) -> Int? {
        guard let range = response.header("range"), let dash = range.lastIndex(of: "-") else { return nil }
        return Int(range[range.index(after: dash)...].trimmingCharacters(in: .whitespaces))
    }

    /// Polls `videos.list` until processing is over, with a growing wait (YouTube gives no hint).
    func waitForProcessing(_ videoID: String, token: String, session: ProviderSession) async throws(PublishStop) {
        var wait: Duration = .seconds(2)
        let deadline = ContinuousClock.now + .seconds(60 * 60)
        while true {
            var request = HTTPClientRequest(url: baseURL + "/youtube/v3/videos?part=status,processingDetails&id=\(videoID)")
            request.method = .GET
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            let response = try await session.call(
                ProviderStep("videos.status"), request, summary: ["video_id": .string(videoID)], provider: provider, classify: classify)
            let item = response.json?["items"]?.arrayValue?.first
            let processing = item?["processingDetails"]?["processingStatus"]?.stringValue
            let upload = item?["status"]?["uploadStatus"]?.stringValue
            if processing == "succeeded" || upload == "processed" { return }
            if processing == "failed" || ["failed", "rejected", "deleted"].contains(upload ?? "") {
                let reason = item?["status"]?["failureReason"]?.stringValue ?? item?["status"]?["rejectionReason"]?.stringValue ?? upload ?? "failed"
                throw PublishStop(.failed(RelayError(status: 400, info: "YouTube could not process the video: \(reason)")))
            }
            guard ContinuousClock.now < deadline else {
                throw PublishStop(.retry(RelayError(status: 502, info: "YouTube did not finish processing the video in an hour"), notBefore: nil, rateLimited: false))
            }
            do { try await Task.sleep(for: wait) } catch {
                throw PublishStop(.retry(RelayError(status: 503, info: "the worker stopped while YouTube was processing the video"), notBefore: nil, rateLimited: false))
            }
            wait = min(wait * 2, .seconds(30))
        }
    }

    /// `POST /upload/youtube/v3/thumbnails/set?videoId=…` with the image bytes.
    func setThumbnail(_ url: String, videoID: String, token: String, session: ProviderSession) async throws(PublishStop) {
        let media = try await session.media.open(url, field: "request.push.video.thumbnail_url", limits: Self.thumbnailLimits)
        let bytes = try await media.collect()
        var request = HTTPClientRequest(url: baseURL + "/upload/youtube/v3/thumbnails/set?videoId=\(videoID)")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: media.type.mimeType)
        request.body = .bytes(bytes)
        _ = try await session.call(
            ProviderStep("thumbnails.set"), request, summary: ["bytes": .integer(Int64(bytes.readableBytes))], provider: provider,
            classify: classify)
    }

    // MARK: Playlists and sections

    func addToPlaylist(_ item: PlaylistItemContent, token: String, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var snippet: [(String, JSONValue)] = [
            ("playlistId", .string(item.playlistID)), ("resourceId", ["kind": "youtube#video", "videoId": .string(item.videoID)]),
        ]
        if let position = item.position { snippet.append(("position", .integer(Int64(position)))) }
        var body: [(String, JSONValue)] = [("snippet", .object(snippet))]
        var part = "snippet"
        if let note = item.note {
            body.append(("contentDetails", ["note": .string(note)]))
            part += ",contentDetails"
        }
        let response = try await session.call(
            ProviderStep("playlistItems.insert", publishes: true),
            .jsonPost(baseURL + "/youtube/v3/playlistItems?part=\(part)", body: .object(body), bearer: token),
            summary: ["playlist_id": .string(item.playlistID), "video_id": .string(item.videoID)], provider: provider, classify: classify)
        guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "playlistItems.insert") }
        return [
            "provider": "youtube", "object": "video", "playlist_id": .string(item.playlistID), "video_id": .string(item.videoID),
            "playlist_item_id": .string(id),
        ]
    }

    func createPlaylist(_ playlist: PlaylistContent, token: String, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var snippet: [(String, JSONValue)] = [("title", .string(playlist.title))]
        if let description = playlist.description { snippet.append(("description", .string(description))) }
        if let language = playlist.defaultLanguage { snippet.append(("defaultLanguage", .string(language))) }
        let body: JSONValue = ["snippet": .object(snippet), "status": ["privacyStatus": .string((playlist.privacy ?? .public).rawValue)]]
        let response = try await session.call(
            ProviderStep("playlists.insert", publishes: true), .jsonPost(baseURL + "/youtube/v3/playlists?part=snippet,status", body: body, bearer: token),
            summary: ["title_length": .integer(Int64(playlist.title.count))], provider: provider, classify: classify)
        guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "playlists.insert") }
        return [
            "provider": "youtube", "object": "playlist", "playlist_id": .string(id),
            "playlist_location": .string("https://www.youtube.com/playlist?list=\(id)"),
        ]
    }

    func addSection(_ section: ChannelSectionContent, token: String, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var snippet: [(String, JSONValue)] = [("type", .string(section.type))]
        if let title = section.title { snippet.append(("title", .string(title))) }
        if let position = section.position { snippet.append(("position", .integer(Int64(position)))) }
        if let language = section.defaultLanguage { snippet.append(("defaultLanguage", .string(language))) }
        var body: [(String, JSONValue)] = [("snippet", .object(snippet))]
        var details: [(String, JSONValue)] = []
        if !section.playlists.isEmpty { details.append(("playlists", .array(section.playlists.map(JSONValue.string)))) }
        if !section.channels.isEmpty { details.append(("channels", .array(section.channels.map(JSONValue.string)))) }
        if !details.isEmpty { body.append(("contentDetails", .object(details))) }
        let response = try await session.call(
            ProviderStep("channelSections.insert", publishes: true),
            .jsonPost(baseURL + "/youtube/v3/channelSections?part=snippet,contentDetails", body: .object(body), bearer: token),
            summary: ["type": .string(section.type)], provider: provider, classify: classify)
        guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "channelSections.insert") }
        return ["provider": "youtube", "object": "section", "section_id": .string(id)]
    }

    // MARK: Helpers

    func classify(_ response: ProviderResponse, _ now: Date) -> ResponseClassification {
        YouTubeResponseClassifier.classify(status: response.status, headers: response.headers, body: response.body, now: now)
    }

    /// An upload chunk's answer: 308 Resume Incomplete is progress, not a redirect.
    func classifyUpload(_ response: ProviderResponse, _ now: Date) -> ResponseClassification {
        response.status == 308 ? ResponseClassification(kind: .success, message: "resume incomplete", replyStatus: 308) : classify(response, now)
    }
}
