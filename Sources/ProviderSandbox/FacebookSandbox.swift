import Foundation
import Hummingbird
import NIOCore
import RelayCore
import Synchronization

/// The Graph API paths PushRelay uses for pages (providers.md §1.3), with Facebook's validation and answers.
///
/// Rejects what the Graph API rejects: no token; a version that is not v25.0 or later; publishing with a
/// user token instead of the page's token (code 200); posts with neither message, link nor attachments
/// (100); a repeated message (506); attachments that are not unpublished photos of that page; a video URL
/// Facebook cannot reach (389: only URLs on the sandbox's own host count as reachable); resumable upload
/// chunks out of order. Page tokens are issued by `GET /{page-id}?fields=access_token` as
/// `page-<page id>-<user token>`.
final class FacebookSandbox: Sendable {
    struct Photo {
        var pageID: String
        var published: Bool
    }

    struct VideoUpload {
        var pageID: String
        var videoID: String
        var total: Int
        var received = 0
    }

    struct State {
        var nextID: Int64 = 10_153_677_042_736_000
        var photos: [String: Photo] = [:]
        var videos: Set<String> = []
        var uploads: [String: VideoUpload] = [:]
        var messages: [String: Set<String>] = [:]
        mutating func newID() -> String {
            nextID += Int64.random(in: 1...999)
            return String(nextID)
        }
    }

    let state = Mutex(State())
    static let chunkSize = 4 << 20

    func handle(_ call: SandboxCall) -> Response {
        guard let token = call.bearerToken ?? call.query["access_token"] ?? call.json?["access_token"]?.stringValue else {
            return Self.error(400, code: 2500, "An active access token must be used to query information about the current user.")
        }
        let segments = call.path.split(separator: "/").map(String.init)
        guard let version = segments.first, let number = Double(version.dropFirst()), version.hasPrefix("v"), number >= 25 else {
            return Self.error(400, code: 2635, "You are calling a deprecated version of the Graph API. Please update to the latest version: v26.0.")
        }
        switch (call.method, Array(segments.dropFirst())) {
        case ("GET", let path) where path.count == 1 && call.query["fields"]?.contains("access_token") == true:
            return pageToken(pageID: path[0], token: token)
        case ("GET", let path) where path.count == 1:
            return videoStatus(path[0])
        case ("POST", let path) where path.count == 2 && path[1] == "feed":
            return feed(call, pageID: path[0], token: token)
        case ("POST", let path) where path.count == 2 && path[1] == "photos":
            return photo(call, pageID: path[0], token: token)
        case ("POST", let path) where path.count == 2 && path[1] == "videos":
            return video(call, pageID: path[0], token: token)
        default:
            return Self.error(400, code: 100, "Unsupported \(call.method) request: \(call.path)")
        }
    }

    func pageToken(pageID: String, token: String) -> Response {
        guard pageID.allSatisfy(\.isNumber) else { return Self.error(400, code: 100, "(#100) Invalid page id \(pageID)") }
        return Response.json(200, ["access_token": .string("page-\(pageID)-\(token)"), "name": .string("Page \(pageID)"), "id": .string(pageID)])
    }

    /// Publishing on a page needs that page's token.
    func checkPageToken(_ token: String, pageID: String) -> Response? {
        guard token.hasPrefix("page-\(pageID)-") else {
            return Self.error(
                403, code: 200,
                "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an admin with sufficient administrative permission")
        }
        return nil
    }

    func feed(_ call: SandboxCall, pageID: String, token: String) -> Response {
        if let refusal = checkPageToken(token, pageID: pageID) { return refusal }
        let body = call.json ?? .object([])
        var message: String?
        if let value = body["message"] {
            guard case .string(let text) = value else { return Self.error(400, code: 100, "(#100) Param message must be a string") }
            message = text
        }
        if let link = body["link"], URLComponents(string: link.stringValue ?? "")?.host == nil {
            return Self.error(400, code: 100, "(#100) Param link must be a valid URL")
        }
        var attached: [String] = []
        if let media = body["attached_media"] {
            guard case .array(let items) = media else { return Self.error(400, code: 100, "(#100) Param attached_media must be an array") }
            for item in items {
                guard case .string(let id)? = item["media_fbid"] else { return Self.error(400, code: 100, "(#100) attached_media entries need media_fbid") }
                attached.append(id)
            }
        }
        if (message ?? "").isEmpty && body["link"] == nil && attached.isEmpty {
            return Self.error(400, code: 100, "(#100) Missing message or attachment")
        }
        return state.withLock { state -> Response in
            for id in attached {
                guard let photo = state.photos[id], photo.pageID == pageID, !photo.published else {
                    return Self.error(400, code: 100, "(#100) attached_media \(id) must be an unpublished photo of this page")
                }
            }
            if let message, !message.isEmpty {
                guard state.messages[pageID, default: []].insert(message).inserted else {
                    return Self.error(400, code: 506, "(#506) Duplicate status message")
                }
            }
            return Response.json(200, ["id": .string("\(pageID)_\(state.newID())")])
        }
    }

    func photo(_ call: SandboxCall, pageID: String, token: String) -> Response {
        if let refusal = checkPageToken(token, pageID: pageID) { return refusal }
        guard let body = call.json else { return Self.error(400, code: 100, "(#100) Requires a url or a source file") }
        guard case .string(let url)? = body["url"], let scheme = URLComponents(string: url)?.scheme, ["http", "https"].contains(scheme) else {
            return Self.error(400, code: 324, "(#324) Requires upload file: url must be an http or https URL")
        }
        var published = true
        if let value = body["published"] {
            guard case .bool(let flag) = value else { return Self.error(400, code: 100, "(#100) Param published must be a boolean") }
            published = flag
        }
        return state.withLock { state -> Response in
            let id = state.newID()
            state.photos[id] = Photo(pageID: pageID, published: published)
            var answer: [(String, JSONValue)] = [("id", .string(id))]
            if published { answer.append(("post_id", .string("\(pageID)_\(state.newID())"))) }
            return Response.json(200, .object(answer))
        }
    }

    func video(_ call: SandboxCall, pageID: String, token: String) -> Response {
        if let refusal = checkPageToken(token, pageID: pageID) { return refusal }
        let phase = call.json?["upload_phase"]?.stringValue ?? call.form?["upload_phase"]?.text
        switch phase {
        case nil:
            guard case .string(let url)? = call.json?["file_url"], let components = URLComponents(string: url) else {
                return Self.error(400, code: 100, "(#100) Requires file_url or source")
            }
            // The sandbox plays Facebook's fetcher: only its own host is reachable from "Facebook".
            let ownHost = call.authority?.split(separator: ":").first.map(String.init)
            guard components.host == ownHost else { return Self.error(400, code: 389, "(#389) Unable to fetch video file from URL.") }
            let id = state.withLock { state -> String in
                let id = state.newID()
                state.videos.insert(id)
                return id
            }
            return Response.json(200, ["id": .string(id)])
        case "start"?:
            guard case .integer(let size)? = call.json?["file_size"], size > 0 else {
                return Self.error(400, code: 100, "(#100) file_size is required to start an upload")
            }
            return state.withLock { state -> Response in
                let session = state.newID()
                let video = state.newID()
                state.uploads[session] = VideoUpload(pageID: pageID, videoID: video, total: Int(size))
                return Response.json(200, [
                    "video_id": .string(video), "upload_session_id": .string(session), "start_offset": "0",
                    "end_offset": .string(String(min(Int(size), Self.chunkSize))),
                ])
            }
        case "transfer"?:
            guard let form = call.form, let session = form["upload_session_id"]?.text, let start = form["start_offset"].flatMap({ Int($0.text) }),
                let chunk = form["video_file_chunk"]
            else { return Self.error(400, code: 100, "(#100) transfer needs upload_session_id, start_offset and video_file_chunk") }
            return state.withLock { state -> Response in
                guard var upload = state.uploads[session], upload.pageID == pageID else { return Self.error(400, code: 6000, "(#6000) Unknown upload session") }
                guard start == upload.received else {
                    return Self.error(400, code: 1363037, "(#1363037) The start_offset \(start) does not match the expected offset \(upload.received)")
                }
                upload.received += chunk.data.readableBytes
                state.uploads[session] = upload
                let next = min(upload.total, upload.received + Self.chunkSize)
                return Response.json(200, ["start_offset": .string(String(upload.received)), "end_offset": .string(String(next))])
            }
        case "finish"?:
            guard case .string(let session)? = call.json?["upload_session_id"] else { return Self.error(400, code: 100, "(#100) upload_session_id is required") }
            return state.withLock { state -> Response in
                guard let upload = state.uploads[session], upload.received == upload.total else {
                    return Self.error(400, code: 6000, "(#6000) The upload is incomplete")
                }
                state.videos.insert(upload.videoID)
                return Response.json(200, ["success": true])
            }
        default:
            return Self.error(400, code: 100, "(#100) upload_phase must be start, transfer or finish")
        }
    }

    func videoStatus(_ id: String) -> Response {
        guard state.withLock({ $0.videos.contains(id) }) else {
            return Self.error(400, code: 100, "(#100) Unsupported get request. Object with ID '\(id)' does not exist")
        }
        return Response.json(200, ["status": ["video_status": "ready", "processing_progress": 100], "id": .string(id)])
    }

    static func error(_ status: Int, code: Int, _ message: String) -> Response {
        Response.json(status, [
            "error": ["message": .string(message), "type": "OAuthException", "code": .integer(Int64(code)), "fbtrace_id": "AsandboxTrace"]
        ])
    }

    static var expiredToken: Response {
        Response.json(401, [
            "error": [
                "message": "Error validating access token: Session has expired.", "type": "OAuthException", "code": 190, "error_subcode": 463,
                "fbtrace_id": "AsandboxTrace",
            ]
        ])
    }
}
