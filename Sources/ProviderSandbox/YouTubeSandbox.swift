import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RelayCore
import Synchronization

/// The YouTube Data API v3 paths PushRelay uses (providers.md §5), with YouTube's validation and answers.
///
/// Resumable uploads behave as YouTube's do: the session URL comes back in `Location`; each `PUT` must
/// continue at the byte already received, every chunk but the last is a multiple of 256 KiB, 308 with
/// `Range: bytes=0-N` acknowledges progress, and `Content-Range: bytes */total` asks where a session stands.
/// Playlists, playlist items and channel sections validate their parts and fields, and refer to each other.
final class YouTubeSandbox: Sendable {
    struct Upload {
        var token: String
        var total: Int
        var contentType: String
        var title: String
        var received = 0
        var firstBytes: [UInt8] = []
        var videoID: String?
    }

    struct State {
        var uploads: [String: Upload] = [:]
        var videos: [String: String] = [:]  // id → owner token
        var playlists: [String: String] = [:]  // id → owner token
        var playlistItems: Set<String> = []  // "playlist/video"
        var counter = 0
        mutating func newID(_ length: Int, prefix: String = "") -> String {
            counter += 1
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            return prefix + String((0..<length).map { _ in alphabet.randomElement()! })
        }
    }

    let state = Mutex(State())
    static let quantum = 256 * 1024

    func handle(_ call: SandboxCall) -> Response {
        guard let token = call.bearerToken else { return Self.error(401, "authError", "Request is missing required authentication credential.") }
        switch (call.method, call.path) {
        case ("POST", "/upload/youtube/v3/videos"): return openSession(call, token: token)
        case ("PUT", "/upload/youtube/v3/videos"): return upload(call, token: token)
        case ("GET", "/youtube/v3/videos"): return listVideos(call, token: token)
        case ("POST", "/upload/youtube/v3/thumbnails/set"): return setThumbnail(call, token: token)
        case ("POST", "/youtube/v3/playlists"): return createPlaylist(call, token: token)
        case ("POST", "/youtube/v3/playlistItems"): return addPlaylistItem(call, token: token)
        case ("POST", "/youtube/v3/channelSections"): return addSection(call, token: token)
        default: return Self.error(404, "notFound", "Not Found: \(call.method) \(call.path)")
        }
    }

    // MARK: Uploads

    func openSession(_ call: SandboxCall, token: String) -> Response {
        guard call.query["uploadType"] == "resumable" else { return Self.error(400, "badRequest", "uploadType must be resumable") }
        guard let part = call.query["part"], part.split(separator: ",").contains("snippet") else {
            return Self.error(400, "required", "Required parameter: part")
        }
        guard let length = call.header("x-upload-content-length").flatMap(Int.init), length > 0 else {
            return Self.error(400, "badRequest", "X-Upload-Content-Length must be the size of the file in bytes")
        }
        let contentType = call.header("x-upload-content-type") ?? "application/octet-stream"
        guard contentType.hasPrefix("video/") || contentType == "application/octet-stream" else {
            return Self.error(400, "invalidContentType", "X-Upload-Content-Type must be video/* or application/octet-stream")
        }
        guard case .string(let title)? = call.json?["snippet"]?["title"], !title.isEmpty else {
            return Self.error(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.")
        }
        guard title.count <= 100, !title.contains("<"), !title.contains(">") else {
            return Self.error(400, "invalidTitle", "The request metadata specifies an invalid video title.")
        }
        if case .string(let description)? = call.json?["snippet"]?["description"], description.utf8.count > 5000 {
            return Self.error(400, "invalidDescription", "The request metadata specifies an invalid video description.")
        }
        if let privacy = call.json?["status"]?["privacyStatus"] {
            guard case .string(let value) = privacy, ["public", "unlisted", "private"].contains(value) else {
                return Self.error(400, "invalidPrivacyStatus", "The privacyStatus is invalid.")
            }
        }
        let uploadID = state.withLock { state -> String in
            let id = state.newID(24)
            state.uploads[id] = Upload(token: token, total: length, contentType: contentType, title: title)
            return id
        }
        var headers = HTTPFields()
        headers[.location] = "http://\(call.authority ?? "127.0.0.1")/youtube/upload/youtube/v3/videos?uploadType=resumable&upload_id=\(uploadID)"
        return Response(status: .ok, headers: headers)
    }

    func upload(_ call: SandboxCall, token: String) -> Response {
        guard let uploadID = call.query["upload_id"] else { return Self.error(400, "badRequest", "upload_id is required") }
        guard let range = call.header("content-range"), range.hasPrefix("bytes ") else {
            return Self.error(400, "badRequest", "Content-Range is required on a resumable upload")
        }
        let spec = range.dropFirst(6)
        return state.withLock { state -> Response in
            guard var upload = state.uploads[uploadID], upload.token == token else {
                return Self.error(404, "notFound", "The upload session does not exist or has expired.")
            }
            if spec.hasPrefix("*/") {  // status query
                guard call.body.readableBytes == 0 else { return Self.error(400, "badRequest", "A status query has an empty body") }
                if let id = upload.videoID { return Self.videoResource(id, title: upload.title, status: 200) }
                return Self.resumeIncomplete(upload.received)
            }
            let parts = spec.split(separator: "/")
            let bounds = parts.first?.split(separator: "-").compactMap { Int($0) } ?? []
            guard parts.count == 2, bounds.count == 2, Int(parts[1]) == upload.total else {
                return Self.error(400, "badRequest", "Content-Range must be bytes first-last/\(upload.total)")
            }
            guard bounds[0] == upload.received else {
                return Self.error(400, "badRequest", "The chunk starts at \(bounds[0]) but \(upload.received) bytes were received")
            }
            guard bounds[1] - bounds[0] + 1 == call.body.readableBytes, bounds[1] < upload.total else {
                return Self.error(400, "badRequest", "Content-Range does not match the body length \(call.body.readableBytes)")
            }
            let isLast = bounds[1] == upload.total - 1
            guard isLast || call.body.readableBytes % Self.quantum == 0 else {
                return Self.error(400, "badRequest", "Chunks other than the last must be a multiple of 256 KiB")
            }
            if upload.received == 0 { upload.firstBytes = Array(call.body.readableBytesView.prefix(12)) }
            upload.received += call.body.readableBytes
            guard isLast else {
                state.uploads[uploadID] = upload
                return Self.resumeIncomplete(upload.received)
            }
            let id = state.newID(11)
            upload.videoID = id
            state.uploads[uploadID] = upload
            state.videos[id] = token
            return Self.videoResource(id, title: upload.title, status: 201)
        }
    }

    static func resumeIncomplete(_ received: Int) -> Response {
        var headers = HTTPFields()
        if received > 0 { headers[HTTPField.Name("Range")!] = "bytes=0-\(received - 1)" }
        return Response(status: .init(code: 308, reasonPhrase: "Resume Incomplete"), headers: headers)
    }

    static func videoResource(_ id: String, title: String, status: Int) -> Response {
        Response.json(status, [
            "kind": "youtube#video", "id": .string(id), "snippet": ["title": .string(title)],
            "status": ["uploadStatus": "uploaded", "privacyStatus": "public"],
        ])
    }

    func listVideos(_ call: SandboxCall, token: String) -> Response {
        guard call.query["part"]?.isEmpty == false else { return Self.error(400, "required", "Required parameter: part") }
        let ids = (call.query["id"] ?? "").split(separator: ",").map(String.init)
        let items: [JSONValue] = state.withLock { state in
            ids.filter { state.videos[$0] != nil }.map { id in
                ["kind": "youtube#video", "id": .string(id), "status": ["uploadStatus": "processed"],
                 "processingDetails": ["processingStatus": "succeeded"]]
            }
        }
        return Response.json(200, ["kind": "youtube#videoListResponse", "items": .array(items)])
    }

    func setThumbnail(_ call: SandboxCall, token: String) -> Response {
        guard let videoID = call.query["videoId"], state.withLock({ $0.videos[videoID] == token }) else {
            return Self.error(404, "videoNotFound", "The video that you are trying to update cannot be found.")
        }
        let type = call.header("content-type") ?? ""
        guard ["image/jpeg", "image/png", "application/octet-stream"].contains(type), call.body.readableBytes > 0 else {
            return Self.error(400, "mediaBodyRequired", "The request does not include the image content.")
        }
        guard call.body.readableBytes <= 2_000_000 else { return Self.error(413, "uploadTooLarge", "The thumbnail is larger than 2 MB.") }
        return Response.json(200, ["kind": "youtube#thumbnailSetResponse", "items": [["default": ["url": .string("https://i.ytimg.com/vi/\(videoID)/default.jpg")]]]])
    }

    // MARK: Playlists and sections

    func createPlaylist(_ call: SandboxCall, token: String) -> Response {
        guard call.query["part"]?.split(separator: ",").contains("snippet") == true else { return Self.error(400, "required", "Required parameter: part") }
        guard case .string(let title)? = call.json?["snippet"]?["title"], !title.isEmpty, title.count <= 150 else {
            return Self.error(400, "invalidPlaylistSnippet", "The playlist snippet must have a title of at most 150 characters.")
        }
        if let privacy = call.json?["status"]?["privacyStatus"] {
            guard case .string(let value) = privacy, ["public", "unlisted", "private"].contains(value) else {
                return Self.error(400, "invalidPrivacyStatus", "The privacyStatus is invalid.")
            }
        }
        let id = state.withLock { state -> String in
            let id = state.newID(32, prefix: "PL")
            state.playlists[id] = token
            return id
        }
        return Response.json(200, ["kind": "youtube#playlist", "id": .string(id), "snippet": ["title": .string(title)]])
    }

    func addPlaylistItem(_ call: SandboxCall, token: String) -> Response {
        guard call.query["part"]?.split(separator: ",").contains("snippet") == true else { return Self.error(400, "required", "Required parameter: part") }
        guard case .string(let playlistID)? = call.json?["snippet"]?["playlistId"] else {
            return Self.error(400, "playlistIdRequired", "The request does not specify a value for the required playlistId property.")
        }
        guard call.json?["snippet"]?["resourceId"]?["kind"] == "youtube#video", case .string(let videoID)? = call.json?["snippet"]?["resourceId"]?["videoId"] else {
            return Self.error(400, "invalidResourceId", "The resource id must be {\"kind\":\"youtube#video\",\"videoId\":…}.")
        }
        if let position = call.json?["snippet"]?["position"], case .integer(let value) = position, value < 0 {
            return Self.error(400, "invalidPlaylistItemPosition", "The position is invalid.")
        }
        return state.withLock { state -> Response in
            guard let owner = state.playlists[playlistID] else {
                return Self.error(404, "playlistNotFound", "The playlist identified with the request's playlistId parameter cannot be found.")
            }
            guard owner == token else { return Self.error(403, "playlistItemsNotAccessible", "The request is not properly authorized to insert the playlist item.") }
            guard state.videos[videoID] != nil else { return Self.error(404, "videoNotFound", "The video that you are trying to add cannot be found.") }
            guard state.playlistItems.insert("\(playlistID)/\(videoID)").inserted else {
                return Self.error(409, "videoAlreadyInPlaylist", "The playlist already contains the video.")
            }
            return Response.json(200, ["kind": "youtube#playlistItem", "id": .string(state.newID(48, prefix: "UE"))])
        }
    }

    func addSection(_ call: SandboxCall, token: String) -> Response {
        guard let part = call.query["part"], part.split(separator: ",").contains("snippet") else { return Self.error(400, "required", "Required parameter: part") }
        guard case .string(let type)? = call.json?["snippet"]?["type"], ChannelSectionContent.types.contains(type) else {
            return Self.error(400, "channelSectionTypeInvalid", "The channel section type is invalid.")
        }
        let playlists = call.json?["contentDetails"]?["playlists"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let channels = call.json?["contentDetails"]?["channels"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let title = call.json?["snippet"]?["title"]?.stringValue
        switch type {
        case "singlePlaylist" where playlists.count != 1, "multiplePlaylists" where playlists.isEmpty:
            return Self.error(400, "invalidPlaylistIds", "The section needs playlists in contentDetails.playlists.")
        case "multipleChannels" where channels.isEmpty:
            return Self.error(400, "invalidChannelIds", "The section needs channels in contentDetails.channels.")
        default: break
        }
        if type.hasPrefix("multiple"), title?.isEmpty != false { return Self.error(400, "titleRequired", "A multiple* section needs a title.") }
        if !playlists.isEmpty {
            guard part.contains("contentDetails") else { return Self.error(400, "required", "part must include contentDetails") }
            let unknown = state.withLock { state in playlists.first { state.playlists[$0] == nil } }
            if let unknown { return Self.error(404, "playlistNotFound", "Playlist \(unknown) cannot be found.") }
        }
        let id = state.withLock { state in "UC" + state.newID(22) + "." + state.newID(11) }
        return Response.json(200, ["kind": "youtube#channelSection", "id": .string(id), "snippet": ["type": .string(type)]])
    }

    static func error(_ status: Int, _ reason: String, _ message: String) -> Response {
        let domain = status == 401 ? "global" : "youtube.api"
        return Response.json(status, [
            "error": [
                "code": .integer(Int64(status)), "message": .string(message),
                "errors": [["message": .string(message), "domain": .string(domain), "reason": .string(reason)]],
                "status": .string(status == 401 ? "UNAUTHENTICATED" : status == 404 ? "NOT_FOUND" : "INVALID_ARGUMENT"),
            ]
        ])
    }

    static var expiredToken: Response { error(401, "authError", "Invalid Credentials") }
}
