/// One of the publishing operations of the Push API, as data.
///
/// The route table of DESIGN §2 lives here once: the HTTP layer matches request paths against it,
/// the engine dispatches on it, and the sandbox and docs are checked against it.
public enum Operation: String, Sendable, Codable, CaseIterable, Hashable {
    case facebookPost = "facebook/post"
    case facebookPicture = "facebook/picture"
    case facebookVideo = "facebook/video"
    case facebookGroupPost = "facebook/group/post"
    case facebookGroupPicture = "facebook/group/picture"
    case facebookGroupVideo = "facebook/group/video"
    case facebookPagePost = "facebook/page/post"
    case facebookPagePicture = "facebook/page/picture"
    case facebookPageVideo = "facebook/page/video"
    case linkedinPost = "linkedin/post"
    case linkedinCompanyPost = "linkedin/company/post"
    case pinterestPin = "pinterest/board/{board_id}/pin"
    case pinterestLegacyPin = "pinterest/pin"
    case pinterestBoard = "pinterest/board"
    case twitterPost = "twitter/post"
    case twitterPicture = "twitter/picture"
    case twitterVideo = "twitter/video"
    case youtubeVideo = "youtube/video"
    case youtubePlaylistVideo = "youtube/playlist/{playlist_id}/video"
    case youtubePlaylist = "youtube/playlist"
    case youtubeChannelSection = "youtube/channel/section"

    public var provider: Provider {
        switch self {
        case .facebookPost, .facebookPicture, .facebookVideo, .facebookGroupPost, .facebookGroupPicture, .facebookGroupVideo,
            .facebookPagePost, .facebookPagePicture, .facebookPageVideo:
            .facebook
        case .linkedinPost, .linkedinCompanyPost: .linkedin
        case .pinterestPin, .pinterestLegacyPin, .pinterestBoard: .pinterest
        case .twitterPost, .twitterPicture, .twitterVideo: .twitter
        case .youtubeVideo, .youtubePlaylistVideo, .youtubePlaylist, .youtubeChannelSection: .youtube
        }
    }

    /// The key under `request.push` that carries the content, and the `object` echoed in replies.
    public var object: String {
        switch self {
        case .facebookPost, .facebookGroupPost, .facebookPagePost, .linkedinPost, .linkedinCompanyPost, .twitterPost:
            "post"
        case .facebookPicture, .facebookGroupPicture, .facebookPagePicture, .twitterPicture:
            "picture"
        case .facebookVideo, .facebookGroupVideo, .facebookPageVideo, .twitterVideo, .youtubeVideo,
            .youtubePlaylistVideo:
            "video"
        case .pinterestPin, .pinterestLegacyPin: "pin"
        case .pinterestBoard: "board"
        case .youtubePlaylist: "playlist"
        case .youtubeChannelSection: "section"
        }
    }

    /// Video uploads of X and YouTube are asynchronous by default, as OneAll documents them.
    public var isAsynchronousByDefault: Bool {
        self == .twitterVideo || self == .youtubeVideo
    }

    /// Routes whose provider removed the publishing API: validated, then answered 409 without a provider call.
    public var removalNotice: String? {
        switch self {
        case .facebookPost, .facebookPicture, .facebookVideo:
            "Facebook no longer allows apps to publish to a user's own profile (publish_actions was removed on 2018-08-01); publish to a page the user administers instead"
        case .facebookGroupPost, .facebookGroupPicture, .facebookGroupVideo:
            "Facebook removed the Groups API for all apps (deprecated in Graph API v19.0, removed on 2024-04-22); groups can no longer be published to"
        default:
            nil
        }
    }

    /// Path segments, with `{name}` for a captured parameter.
    var segments: [Substring] { rawValue.split(separator: "/") }

    /// Every operation with its segments, split once (matching runs for every request).
    static let routeTable: [(operation: Operation, segments: [Substring])] = allCases.map { ($0, $0.segments) }
}

/// A request path matched against the route table, with the values of its path parameters.
public struct MatchedOperation: Sendable, Hashable {
    public let operation: Operation
    /// The concrete route, e.g. `pinterest/board/123/pin` (what `GET /push/events` reports as `path`).
    public let path: String
    public let parameters: [String: String]

    /// Matches a route relative to the identity, without the `.json` suffix (`twitter/post`).
    public static func match(_ path: String) -> MatchedOperation? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !parts.contains(where: \.isEmpty) else { return nil }
        for (operation, pattern) in Operation.routeTable {
            guard pattern.count == parts.count else { continue }
            var parameters: [String: String] = [:]
            var matched = true
            for (expected, actual) in zip(pattern, parts) {
                if expected.hasPrefix("{") && expected.hasSuffix("}") {
                    parameters[String(expected.dropFirst().dropLast())] = String(actual)
                } else if expected != actual {
                    matched = false
                    break
                }
            }
            if matched {
                return MatchedOperation(operation: operation, path: path, parameters: parameters)
            }
        }
        return nil
    }
}
