import Foundation
import Hummingbird
import RelayCore
import Synchronization

/// The X API v2 paths PushRelay uses (providers.md §4), with X's validation and answer shapes.
///
/// Rejects what X rejects: no bearer token, wrong types, unknown fields, text over 280 weighted characters (`TweetLength`),
/// more than 4 media, unknown or unprocessed media ids, duplicate tweets, chunk size mismatches.
final class XSandbox: Sendable {
    struct Media {
        var kind: String
        var totalBytes: Int
        var receivedBytes = 0
        var segments: Set<Int> = []
        var finalized = false
        var statusChecks = 0
        var owner: String
    }

    struct State {
        var nextID: Int64 = 1_860_000_000_000_000_000
        var media: [String: Media] = [:]
        var tweetsByToken: [String: Set<String>] = [:]
        mutating func newID() -> String {
            nextID += Int64.random(in: 1...999)
            return String(nextID)
        }
    }

    let state = Mutex(State())

    static let tweetFields: Set<String> = [
        "text", "media", "poll", "reply", "quote_tweet_id", "reply_settings", "for_super_followers_only", "nullcast",
        "made_with_ai", "paid_partnership", "share_with_followers", "community_id", "card_uri", "geo",
        "direct_message_deep_link", "edit_options",
    ]
    static let imageCategories: Set<String> = ["tweet_image", "tweet_gif", "dm_image", "dm_gif"]
    static let categories: Set<String> = ["tweet_image", "tweet_video", "tweet_gif", "dm_image", "dm_video", "dm_gif", "subtitles", "amplify_video"]
    static let mediaTypes: Set<String> = [
        "video/mp4", "video/webm", "video/mp2t", "video/quicktime", "text/srt", "text/vtt", "image/jpeg", "image/gif",
        "image/bmp", "image/png", "image/webp", "image/pjpeg", "image/tiff", "model/gltf-binary", "model/vnd.usdz+zip",
    ]

    func handle(_ call: SandboxCall) -> Response {
        guard let token = call.bearerToken else {
            return Self.problem(401, title: "Unauthorized", detail: "Unauthorized", type: "about:blank")
        }
        switch (call.method, call.path) {
        case ("POST", "/2/tweets"): return createTweet(call, token: token)
        case ("POST", "/2/media/upload"): return upload(call, token: token)
        case ("GET", "/2/media/upload"): return status(call, token: token)
        case ("POST", "/2/media/upload/initialize"): return initialize(call, token: token)
        case ("POST", "/2/media/metadata"): return metadata(call, token: token)
        case ("POST", let path) where path.hasPrefix("/2/media/upload/") && path.hasSuffix("/append"):
            return append(call, id: Self.segment(path, 3), token: token)
        case ("POST", let path) where path.hasPrefix("/2/media/upload/") && path.hasSuffix("/finalize"):
            return finalize(call, id: Self.segment(path, 3), token: token)
        default:
            return Self.problem(404, title: "Not Found Error", detail: "Sorry, that page does not exist", type: "about:blank")
        }
    }

    func createTweet(_ call: SandboxCall, token: String) -> Response {
        guard let json = call.json, case .object(let members) = json else {
            return Self.invalid("The request body must be a JSON object")
        }
        if let unknown = members.first(where: { !Self.tweetFields.contains($0.0) }) {
            return Self.invalid("The query parameter [\(unknown.0)] is not one of [\(Self.tweetFields.sorted().joined(separator: ","))]")
        }
        var text: String?
        if let value = json["text"] {
            guard case .string(let string) = value else { return Self.invalid("$.text: expected a string") }
            text = string
        }
        var mediaIDs: [String] = []
        if let media = json["media"] {
            guard case .array(let ids)? = media["media_ids"] else { return Self.invalid("$.media.media_ids: expected an array") }
            guard (1...4).contains(ids.count) else { return Self.invalid("$.media.media_ids: size must be between 1 and 4") }
            for id in ids {
                guard case .string(let value) = id, value.wholeMatch(of: /[0-9]{1,19}/) != nil else {
                    return Self.invalid("$.media.media_ids: each id must be a string of digits")
                }
                mediaIDs.append(value)
            }
        }
        if let geo = json["geo"], geo["place_id"]?.stringValue == nil {
            return Self.invalid("$.geo.place_id: expected a string")
        }
        if (text ?? "").isEmpty && mediaIDs.isEmpty {
            return Self.invalid("You must specify either text, media, poll, card_uri, quote_tweet_id, or direct_message_deep_link")
        }
        if let text, TweetLength.weighted(text) > TweetLength.maximum {
            return Self.problem(
                403, title: "Forbidden", detail: "Your Tweet text is too long. For more information on how X determines text length, see https://github.com/twitter/twitter-text.",
                type: "about:blank")
        }
        return state.withLock { state -> Response in
            for id in mediaIDs {
                guard let media = state.media[id], media.owner == token else {
                    return Self.invalid("Your media IDs are invalid.")
                }
                guard media.finalized, media.kind == "image" || media.statusChecks > 0 else {
                    return Self.invalid("Your media IDs are invalid: media \(id) is still processing.")
                }
            }
            if let text, !text.isEmpty {
                if state.tweetsByToken[token, default: []].contains(text) {
                    return Self.problem(403, title: "Forbidden", detail: "You are not allowed to create a Tweet with duplicate content.", type: "about:blank")
                }
                state.tweetsByToken[token, default: []].insert(text)
            }
            let id = state.newID()
            return Self.ok(201, ["data": ["id": .string(id), "text": .string(text ?? ""), "edit_history_post_ids": [.string(id)]]])
        }
    }

    func upload(_ call: SandboxCall, token: String) -> Response {
        guard let form = call.form else { return Self.invalid("POST /2/media/upload expects multipart/form-data") }
        if let unknown = form.keys.first(where: { !["media", "media_category", "additional_owners", "shared"].contains($0) }) {
            return Self.invalid("$.\(unknown): unknown field")
        }
        guard let media = form["media"], media.data.readableBytes > 0 else { return Self.invalid("$.media: required") }
        guard let category = form["media_category"]?.text, Self.categories.contains(category) else {
            return Self.invalid("$.media_category: required, one of \(Self.categories.sorted().joined(separator: ", "))")
        }
        guard Self.imageCategories.contains(category) else {
            return Self.invalid("$.media_category: \(category) needs the chunked upload (initialize/append/finalize)")
        }
        let bytes = Array(media.data.readableBytesView.prefix(12))
        let isGIF = bytes.starts(with: Array("GIF8".utf8))
        let isImage = bytes.starts(with: [0xFF, 0xD8, 0xFF]) || bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) || isGIF
            || (bytes.count >= 12 && Array(bytes[8..<12]) == Array("WEBP".utf8))
        guard isImage else { return Self.invalid("media type unrecognized.") }
        let limit = isGIF ? 15 * 1_000_000 : 5 * 1_000_000
        guard media.data.readableBytes <= limit else {
            return Self.invalid("File size exceeds \(limit) bytes.")
        }
        let id = state.withLock { state -> String in
            let id = state.newID()
            state.media[id] = Media(kind: "image", totalBytes: media.data.readableBytes, receivedBytes: media.data.readableBytes, finalized: true, owner: token)
            return id
        }
        return Self.ok(200, [
            "data": [
                "id": .string(id), "media_key": .string("3_\(id)"), "size": .integer(Int64(media.data.readableBytes)),
                "expires_after_secs": 86400, "image": ["image_type": isGIF ? "image/gif" : "image/jpeg", "w": 800, "h": 600],
            ],
        ])
    }

    func metadata(_ call: SandboxCall, token: String) -> Response {
        guard let json = call.json, case .object = json else { return Self.invalid("The request body must be a JSON object") }
        guard let id = json["id"]?.stringValue, id.wholeMatch(of: /[0-9]{1,19}/) != nil else {
            return Self.invalid("$.id: required, a string of digits")
        }
        if let alt = json["metadata"]?["alt_text"] {
            guard let text = alt["text"]?.stringValue else { return Self.invalid("$.metadata.alt_text.text: required string") }
            guard text.count <= 1000 else { return Self.invalid("$.metadata.alt_text.text: must be at most 1000 characters") }
        }
        let known = state.withLock { $0.media[id]?.owner == token }
        guard known else { return Self.problem(400, title: "Invalid Request", detail: "Media \(id) not found", type: "https://api.x.com/2/problems/resource-not-found") }
        return Self.ok(200, ["data": ["id": .string(id), "associated_metadata": true]])
    }

    func initialize(_ call: SandboxCall, token: String) -> Response {
        guard let json = call.json, case .object(let members) = json else { return Self.invalid("The request body must be a JSON object") }
        if let unknown = members.first(where: { !["media_type", "total_bytes", "media_category", "additional_owners", "shared"].contains($0.0) }) {
            return Self.invalid("$.\(unknown.0): unknown field")
        }
        guard let mediaType = json["media_type"]?.stringValue, Self.mediaTypes.contains(mediaType) else {
            return Self.invalid("$.media_type: required, a supported MIME type")
        }
        guard case .integer(let total)? = json["total_bytes"], total > 0, total <= 17_179_869_184 else {
            return Self.invalid("$.total_bytes: required integer")
        }
        if let category = json["media_category"], !(category.stringValue.map(Self.categories.contains) ?? false) {
            return Self.invalid("$.media_category: not a valid category")
        }
        if mediaType.hasPrefix("video/"), total > 512 << 20 {
            return Self.invalid("File size exceeds 536870912 bytes.")
        }
        let id = state.withLock { state -> String in
            let id = state.newID()
            state.media[id] = Media(kind: mediaType.hasPrefix("video/") ? "video" : "image", totalBytes: Int(total), owner: token)
            return id
        }
        return Self.ok(200, ["data": ["id": .string(id), "media_key": .string("7_\(id)"), "expires_after_secs": 86400]])
    }

    func append(_ call: SandboxCall, id: String, token: String) -> Response {
        guard let form = call.form else { return Self.invalid("append expects multipart/form-data") }
        guard let media = form["media"] else { return Self.invalid("$.media: required") }
        guard let indexText = form["segment_index"]?.text, let index = Int(indexText), (0...999).contains(index) else {
            return Self.invalid("$.segment_index: required integer 0-999")
        }
        guard media.data.readableBytes <= 5 << 20 else { return Self.invalid("Segment size exceeds 5 MB.") }
        return state.withLock { state -> Response in
            guard var upload = state.media[id], upload.owner == token, !upload.finalized else {
                return Self.problem(400, title: "Invalid Request", detail: "Media \(id) not found or already finalized", type: "https://api.x.com/2/problems/resource-not-found")
            }
            guard !upload.segments.contains(index) else { return Self.invalid("Segment \(index) was already uploaded") }
            upload.segments.insert(index)
            upload.receivedBytes += media.data.readableBytes
            guard upload.receivedBytes <= upload.totalBytes else { return Self.invalid("More bytes received than total_bytes") }
            state.media[id] = upload
            return Self.ok(200, ["data": ["expires_at": .integer(Int64(Date().timeIntervalSince1970) + 86400)]])
        }
    }

    func finalize(_ call: SandboxCall, id: String, token: String) -> Response {
        state.withLock { state -> Response in
            guard var upload = state.media[id], upload.owner == token, !upload.finalized else {
                return Self.problem(400, title: "Invalid Request", detail: "Media \(id) not found or already finalized", type: "https://api.x.com/2/problems/resource-not-found")
            }
            guard upload.receivedBytes == upload.totalBytes else {
                return Self.invalid("File size mismatch: received \(upload.receivedBytes) of \(upload.totalBytes) bytes")
            }
            guard upload.segments == Set(0..<upload.segments.count) else { return Self.invalid("Segments are not contiguous") }
            upload.finalized = true
            state.media[id] = upload
            var data: JSONValue = ["id": .string(id), "media_key": .string("7_\(id)"), "size": .integer(Int64(upload.totalBytes)), "expires_after_secs": 86400]
            if upload.kind == "video" {
                data = data.setting("processing_info", to: ["state": "pending", "check_after_secs": 1])
            }
            return Self.ok(200, ["data": data])
        }
    }

    func status(_ call: SandboxCall, token: String) -> Response {
        guard call.query["command"] == "STATUS" else { return Self.invalid("command: must be STATUS") }
        guard let id = call.query["media_id"], id.wholeMatch(of: /[0-9]{1,19}/) != nil else {
            return Self.invalid("media_id: required")
        }
        return state.withLock { state -> Response in
            guard var media = state.media[id], media.owner == token, media.finalized else {
                return Self.problem(400, title: "Invalid Request", detail: "Media \(id) not found", type: "https://api.x.com/2/problems/resource-not-found")
            }
            media.statusChecks += 1
            state.media[id] = media
            return Self.ok(200, [
                "data": ["id": .string(id), "media_key": .string("7_\(id)"), "processing_info": ["state": "succeeded", "progress_percent": 100]],
            ])
        }
    }

    // MARK: Shapes

    static func segment(_ path: String, _ index: Int) -> String {
        let parts = path.split(separator: "/")
        return parts.count > index ? String(parts[index]) : ""
    }

    static var rateLimitHeaders: [(String, String)] {
        [("x-rate-limit-limit", "300"), ("x-rate-limit-remaining", "299"),
         ("x-rate-limit-reset", String(Int(Date().timeIntervalSince1970) + 900))]
    }

    static func ok(_ status: Int, _ body: JSONValue) -> Response {
        .json(status, body, headers: rateLimitHeaders)
    }

    static func invalid(_ detail: String) -> Response {
        .json(
            400,
            ["errors": [["message": .string(detail)]], "title": "Invalid Request", "detail": .string(detail),
             "type": "https://api.x.com/2/problems/invalid-request", "status": 400],
            headers: rateLimitHeaders, contentType: "application/problem+json")
    }

    static func problem(_ status: Int, title: String, detail: String, type: String) -> Response {
        .json(
            status, ["title": .string(title), "detail": .string(detail), "type": .string(type), "status": .integer(Int64(status))],
            headers: rateLimitHeaders, contentType: "application/problem+json")
    }

    /// X's answer to an expired or revoked OAuth 2.0 token.
    static var expiredToken: Response {
        problem(401, title: "Unauthorized", detail: "Unauthorized", type: "about:blank")
    }
}
