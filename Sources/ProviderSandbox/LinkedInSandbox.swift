import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import RelayCore
import Synchronization

/// The LinkedIn `/rest` paths PushRelay uses (providers.md §2), with LinkedIn's validation and answers.
///
/// Rejects what LinkedIn rejects: no bearer token; a missing, malformed or inactive `LinkedIn-Version`
/// (426; versions live about a year); a missing `X-Restli-Protocol-Version: 2.0.0`; posts with a bad
/// author URN, visibility, distribution or lifecycle; images that were never uploaded or are not images.
/// A post answers 201 with an empty body and its URN in `x-restli-id`, as LinkedIn does.
final class LinkedInSandbox: Sendable {
    struct Image {
        var owner: String
        var token: String
        var uploaded = false
    }

    struct State {
        var nextID: Int64 = 7_100_000_000_000_000_000
        var images: [String: Image] = [:]
        mutating func newID() -> String {
            nextID += Int64.random(in: 1...999)
            return String(nextID)
        }
    }

    let state = Mutex(State())

    func handle(_ call: SandboxCall) -> Response {
        guard let token = call.bearerToken else {
            return Self.error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", serviceErrorCode: 65600)
        }
        if call.method == "PUT", call.path.hasPrefix("/dms-uploads/") {
            return upload(call, id: String(call.path.dropFirst("/dms-uploads/".count)), token: token)
        }
        if let refusal = checkHeaders(call) { return refusal }
        switch (call.method, call.path) {
        case ("POST", "/rest/posts"): return createPost(call, token: token)
        case ("POST", "/rest/images") where call.query["action"] == "initializeUpload": return initializeUpload(call, token: token)
        default: return Self.error(404, "NOT_FOUND", "No resource at \(call.method) \(call.path)")
        }
    }

    /// `LinkedIn-Version` (YYYYMM, active for about a year) and `X-Restli-Protocol-Version: 2.0.0`.
    func checkHeaders(_ call: SandboxCall) -> Response? {
        guard let version = call.header("linkedin-version"), version.wholeMatch(of: /[0-9]{6}/) != nil,
            let year = Int(version.prefix(4)), let month = Int(version.suffix(2)), (1...12).contains(month)
        else { return Self.error(400, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.") }
        let now = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        let age = (now.year! - year) * 12 + (now.month! - month)
        guard (0...12).contains(age) else {
            return Self.error(426, "NONEXISTENT_VERSION", "Requested version \(version) is not active")
        }
        guard call.header("x-restli-protocol-version") == "2.0.0" else {
            return Self.error(400, "ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version 2.0.0 is required")
        }
        guard call.header("content-type")?.lowercased().hasPrefix("application/json") == true, case .object? = call.json else {
            return Self.error(400, "ILLEGAL_ARGUMENT", "The body must be a JSON object (Content-Type: application/json)")
        }
        return nil
    }

    func initializeUpload(_ call: SandboxCall, token: String) -> Response {
        guard case .string(let owner)? = call.json?["initializeUploadRequest"]?["owner"], Self.isAuthorURN(owner) else {
            return Self.error(422, "UNPROCESSABLE_ENTITY", "/initializeUploadRequest/owner :: must be a person or organization URN")
        }
        let id = state.withLock { state -> String in
            let id = state.newID()
            state.images["urn:li:image:C\(id)"] = Image(owner: owner, token: token)
            return id
        }
        let host = call.authority ?? "127.0.0.1"
        return Response.json(200, [
            "value": [
                "uploadUrlExpiresAt": .integer(Int64(Date().addingTimeInterval(86_400).timeIntervalSince1970 * 1000)),
                "uploadUrl": .string("http://\(host)/linkedin/dms-uploads/C\(id)"),
                "image": .string("urn:li:image:C\(id)"),
            ]
        ])
    }

    func upload(_ call: SandboxCall, id: String, token: String) -> Response {
        let urn = "urn:li:image:\(id)"
        let bytes = Array(call.body.readableBytesView.prefix(12))
        let isImage = bytes.starts(with: [0xFF, 0xD8, 0xFF]) || bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) || bytes.starts(with: Array("GIF8".utf8))
        return state.withLock { state -> Response in
            guard var image = state.images[urn], image.token == token else {
                return Self.error(404, "NOT_FOUND", "Unknown upload \(id)")
            }
            guard call.body.readableBytes > 0, isImage else {
                return Self.error(400, "BAD_REQUEST", "The uploaded file is not a JPG, PNG or GIF image")
            }
            image.uploaded = true
            state.images[urn] = image
            return Response(status: .created)
        }
    }

    func createPost(_ call: SandboxCall, token: String) -> Response {
        guard let body = call.json else { return Self.error(400, "ILLEGAL_ARGUMENT", "Invalid JSON") }
        guard case .string(let author)? = body["author"], Self.isAuthorURN(author) else {
            return Self.error(422, "UNPROCESSABLE_ENTITY", "/author :: must be urn:li:person:{id} or urn:li:organization:{id}")
        }
        guard case .string(let commentary)? = body["commentary"] else {
            return Self.error(422, "UNPROCESSABLE_ENTITY", "/commentary :: field is required")
        }
        guard commentary.count <= 3000 else { return Self.error(422, "UNPROCESSABLE_ENTITY", "/commentary :: length must be at most 3000") }
        guard case .string(let visibility)? = body["visibility"], ["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"].contains(visibility) else {
            return Self.error(422, "UNPROCESSABLE_ENTITY", "/visibility :: must be PUBLIC, CONNECTIONS, LOGGED_IN or CONTAINER")
        }
        guard case .string(let feed)? = body["distribution"]?["feedDistribution"], ["MAIN_FEED", "NONE"].contains(feed) else {
            return Self.error(422, "UNPROCESSABLE_ENTITY", "/distribution/feedDistribution :: must be MAIN_FEED or NONE")
        }
        guard case .string(let lifecycle)? = body["lifecycleState"], ["PUBLISHED", "DRAFT"].contains(lifecycle) else {
            return Self.error(422, "UNPROCESSABLE_ENTITY", "/lifecycleState :: must be PUBLISHED or DRAFT")
        }
        if let content = body["content"] {
            var images: [String] = []
            if let media = content["media"] {
                guard case .string(let id)? = media["id"] else { return Self.error(422, "UNPROCESSABLE_ENTITY", "/content/media/id :: required") }
                images.append(id)
            } else if let article = content["article"] {
                guard case .string(let source)? = article["source"], URLComponents(string: source)?.host != nil else {
                    return Self.error(422, "UNPROCESSABLE_ENTITY", "/content/article/source :: must be a URL")
                }
                if case .string(let thumbnail)? = article["thumbnail"] { images.append(thumbnail) }
            } else {
                return Self.error(422, "UNPROCESSABLE_ENTITY", "/content :: must hold media, multiImage, article or poll")
            }
            let known = state.withLock { state in images.allSatisfy { state.images[$0]?.uploaded == true && state.images[$0]?.token == token } }
            guard known else { return Self.error(422, "UNPROCESSABLE_ENTITY", "/content :: the image was not uploaded by this member") }
        } else if commentary.isEmpty {
            return Self.error(422, "UNPROCESSABLE_ENTITY", "/commentary :: a post without content needs commentary")
        }
        let urn = "urn:li:share:\(state.withLock { $0.newID() })"
        var headers = HTTPFields()
        headers[HTTPField.Name("x-restli-id")!] = urn
        return Response(status: .created, headers: headers)
    }

    static func isAuthorURN(_ text: String) -> Bool {
        text.wholeMatch(of: /urn:li:(person|organization):[A-Za-z0-9_-]+/) != nil
    }

    static func error(_ status: Int, _ code: String, _ message: String, serviceErrorCode: Int? = nil) -> Response {
        var body: [(String, JSONValue)] = [("status", .integer(Int64(status)))]
        if let serviceErrorCode { body.append(("serviceErrorCode", .integer(Int64(serviceErrorCode)))) }
        body.append(("code", .string(code)))
        body.append(("message", .string(message)))
        return Response.json(status, .object(body))
    }

    static var expiredToken: Response { error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", serviceErrorCode: 65601) }
}
