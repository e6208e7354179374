import AsyncHTTPClient
import Foundation
import RelayCore

/// Publishes to Pinterest through API v5 (providers.md §3): pins by image URL, and boards.
///
/// Pinterest fetches pin images itself (`media_source.source_type = image_url`), so no media passes
/// through PushRelay for this provider.
public struct PinterestAdapter: ProviderAdapter {
    public let provider = Provider.pinterest
    /// Origin (optionally with a path prefix); `/v5/pins` and `/v5/boards` are appended.
    public let baseURL: String

    public init(baseURL: String) {
        self.baseURL = baseURL
    }

    public func publish(_ job: PublishJob, session: ProviderSession) async -> PublishOutcome {
        do {
            switch job.content {
            case .pin(let pin): return .succeeded(try await createPin(pin, job: job, session: session))
            case .board(let board): return .succeeded(try await createBoard(board, job: job, session: session))
            default: return .failed(.internalError("the Pinterest adapter cannot publish \(job.route.path)"))
            }
        } catch {
            return error.outcome
        }
    }

    /// `POST /v5/pins` (providers.md §3.1).
    func createPin(_ pin: PinContent, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var body: [(String, JSONValue)] = [("board_id", .string(pin.boardID))]
        if let title = pin.title { body.append(("title", .string(title))) }
        body.append(("description", .string(pin.description)))
        if let link = pin.link { body.append(("link", .string(link))) }
        body.append(("media_source", ["source_type": "image_url", "url": .string(pin.imageURL)]))
        let response = try await session.call(
            ProviderStep("pins.create", publishes: true),
            .jsonPost(baseURL + "/v5/pins", body: .object(body), bearer: job.credentials.accessToken),
            summary: ["board_id": .string(pin.boardID), "description_length": .integer(Int64(pin.description.count))],
            provider: provider, classify: classify)
        guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "pins.create") }
        return [
            "provider": "pinterest", "object": "pin", "board_id": .string(response.json?["board_id"]?.stringValue ?? pin.boardID),
            "pin_id": .string(id), "pin_location": .string("https://www.pinterest.com/pin/\(id)/"),
        ]
    }

    /// `POST /v5/boards` (providers.md §3.2).
    func createBoard(_ board: BoardContent, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        var body: [(String, JSONValue)] = [("name", .string(board.name))]
        if let description = board.description { body.append(("description", .string(description))) }
        body.append(("privacy", .string(board.privacy.rawValue)))
        let response = try await session.call(
            ProviderStep("boards.create", publishes: true),
            .jsonPost(baseURL + "/v5/boards", body: .object(body), bearer: job.credentials.accessToken),
            summary: ["name_length": .integer(Int64(board.name.count)), "privacy": .string(board.privacy.rawValue)],
            provider: provider, classify: classify)
        guard let id = response.json?["id"]?.stringValue else { throw .unexpected(provider, response, "boards.create") }
        var data: [(String, JSONValue)] = [("provider", "pinterest"), ("object", "board"), ("board_id", .string(id))]
        if let username = response.json?["owner"]?["username"]?.stringValue {
            data.append(("board_location", .string("https://www.pinterest.com/\(username)/\(Self.slug(board.name))/")))
        }
        return .object(data)
    }

    /// The URL form of a board name, as pinterest.com builds it: lower case, words joined by hyphens.
    static func slug(_ name: String) -> String {
        let words = name.lowercased().split { !$0.isLetter && !$0.isNumber }
        let slug = words.joined(separator: "-")
        return slug.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? slug
    }

    func classify(_ response: ProviderResponse, _ now: Date) -> ResponseClassification {
        PinterestResponseClassifier.classify(status: response.status, headers: response.headers, body: response.body, now: now)
    }
}
