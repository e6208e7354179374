import Foundation
import Hummingbird
import RelayCore
import Synchronization

/// The Pinterest API v5 paths PushRelay uses (providers.md §3), with Pinterest's validation and answers.
///
/// Rejects what Pinterest rejects: no bearer token, a body that is not JSON, missing or wrongly typed
/// fields, fields over their length limits, an unknown `media_source.source_type`, and pins on a board the
/// token's user does not own (boards exist once created through `POST /v5/boards`).
final class PinterestSandbox: Sendable {
    struct Board {
        var id: String
        var name: String
        var owner: String
    }

    struct State {
        var nextID: Int64 = 549_755_885_000
        var boards: [String: Board] = [:]
        mutating func newID() -> String {
            nextID += Int64.random(in: 1...999)
            return String(nextID)
        }
    }

    let state = Mutex(State())
    static let sourceTypes: Set<String> = [
        "image_url", "image_base64", "video_id", "multiple_image_urls", "multiple_image_base64", "pin_url",
    ]

    func handle(_ call: SandboxCall) -> Response {
        guard let token = call.bearerToken else { return Self.error(401, code: 2, "Authentication failed.") }
        switch (call.method, call.path) {
        case ("POST", "/v5/pins"): return createPin(call, token: token)
        case ("POST", "/v5/boards"): return createBoard(call, token: token)
        default: return Self.error(404, code: 404, "Not found: \(call.method) \(call.path)")
        }
    }

    func createBoard(_ call: SandboxCall, token: String) -> Response {
        guard call.header("content-type")?.lowercased().hasPrefix("application/json") == true, let body = call.json,
            case .object = body
        else { return Self.invalid("Request body must be a JSON object (Content-Type: application/json)") }
        guard case .string(let name)? = body["name"], !name.isEmpty else { return Self.invalid("Missing required field: name") }
        guard name.count <= 180 else { return Self.invalid("name: must be at most 180 characters") }
        if let description = body["description"] {
            guard case .string(let text) = description, text.count <= 500 else {
                return Self.invalid("description: expected a string of at most 500 characters")
            }
        }
        var privacy = "PUBLIC"
        if let value = body["privacy"] {
            guard case .string(let text) = value, ["PUBLIC", "PROTECTED", "SECRET"].contains(text) else {
                return Self.invalid("privacy: must be one of PUBLIC, PROTECTED, SECRET")
            }
            privacy = text
        }
        let username = Self.username(token)
        let board = state.withLock { state -> Board in
            let board = Board(id: state.newID(), name: name, owner: token)
            state.boards[board.id] = board
            return board
        }
        return Response.json(
            201,
            [
                "id": .string(board.id), "name": .string(name), "description": body["description"] ?? "",
                "owner": ["username": .string(username)], "privacy": .string(privacy),
                "created_at": .string(RFC3339.format(Date())), "pin_count": 0, "follower_count": 0,
            ])
    }

    func createPin(_ call: SandboxCall, token: String) -> Response {
        guard call.header("content-type")?.lowercased().hasPrefix("application/json") == true, let body = call.json,
            case .object = body
        else { return Self.invalid("Request body must be a JSON object (Content-Type: application/json)") }
        guard case .string(let boardID)? = body["board_id"], boardID.wholeMatch(of: /[0-9]{1,19}/) != nil else {
            return Self.invalid("board_id: required string of digits")
        }
        for (field, limit) in [("title", 100), ("description", 800), ("link", 2048), ("alt_text", 500)] {
            guard let value = body[field] else { continue }
            guard case .string(let text) = value, text.count <= limit else {
                return Self.invalid("\(field): expected a string of at most \(limit) characters")
            }
        }
        if case .string(let link)? = body["link"], URLComponents(string: link)?.scheme.map({ ["http", "https"].contains($0) }) != true {
            return Self.invalid("link: must be an http or https URL")
        }
        guard case .object? = body["media_source"], case .string(let sourceType)? = body["media_source"]?["source_type"],
            Self.sourceTypes.contains(sourceType)
        else {
            return Self.invalid("media_source.source_type: must be one of \(Self.sourceTypes.sorted().joined(separator: ", "))")
        }
        if sourceType == "image_url" {
            guard case .string(let url)? = body["media_source"]?["url"],
                let scheme = URLComponents(string: url)?.scheme, ["http", "https"].contains(scheme)
            else { return Self.invalid("media_source.url: required http or https URL of the image") }
        } else {
            return Self.invalid("media_source.source_type \(sourceType) is not simulated by this sandbox")
        }
        let board = state.withLock { $0.boards[boardID] }
        guard let board else { return Self.error(404, code: 2, "Board not found.") }
        guard board.owner == token else {
            return Self.error(403, code: 3, "You do not have permission to create a Pin on this board.")
        }
        let id = String(Int64.random(in: 100_000_000_000_000_000...999_999_999_999_999_999))
        return Response.json(
            201,
            [
                "id": .string(id), "created_at": .string(RFC3339.format(Date())), "board_id": .string(boardID),
                "board_owner": ["username": .string(Self.username(token))], "title": body["title"] ?? .null,
                "description": body["description"] ?? .null, "link": body["link"] ?? .null,
                "media": ["media_type": "image"], "is_owner": true,
            ])
    }

    /// A stable user name per token, for `owner.username`.
    static func username(_ token: String) -> String {
        "user" + String(UInt32(truncatingIfNeeded: token.hashValueStable))
    }

    static func invalid(_ message: String) -> Response { error(400, code: 1, message) }

    static func error(_ status: Int, code: Int, _ message: String) -> Response {
        Response.json(status, ["code": .integer(Int64(code)), "message": .string(message)])
    }

    /// Pinterest's answer to an expired or revoked token.
    static var expiredToken: Response { error(401, code: 2, "Authentication failed.") }
}

extension String {
    /// FNV-1a: the same value in every run (Swift's `hashValue` is seeded per process).
    var hashValueStable: UInt64 {
        utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
