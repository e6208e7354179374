import Foundation

/// A validated publish request: what the engine hands to a provider adapter.
///
/// It is built once from the raw OneAll body (by `PushRequestParser`), stored as JSON on the
/// publish job so an admin can read it, and decoded again by the worker that claims the job.
public struct PublishRequest: Sendable, Hashable {
    public let route: MatchedOperation
    public let content: PublishContent
    /// Extension: `request.callback_url` or OneAll's `video.callback_url`.
    public let callbackURL: String?
    /// Extension: `request.schedule.at`.
    public let scheduledAt: Date?

    public init(route: MatchedOperation, content: PublishContent, callbackURL: String? = nil, scheduledAt: Date? = nil) {
        self.route = route
        self.content = content
        self.callbackURL = callbackURL
        self.scheduledAt = scheduledAt
    }

    public var operation: Operation { route.operation }
}

/// The content of a publish request, one case per kind of object.
public enum PublishContent: Sendable, Hashable {
    case post(PostContent)
    case picture(PictureContent)
    case video(VideoContent)
    case pin(PinContent)
    case board(BoardContent)
    case linkedinPost(LinkedInPostContent)
    case youtubeVideo(YouTubeVideoContent)
    case playlistItem(PlaylistItemContent)
    case playlist(PlaylistContent)
    case channelSection(ChannelSectionContent)
    case facebookPagePost(FacebookPagePost)
    case facebookPagePicture(FacebookPagePicture)
    case facebookPageVideo(FacebookPageVideo)

    /// The stored form (`publish_jobs.request`): the object's own fields, snake_case.
    public func encodedJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data?
        switch self {
        case .post(let content): data = try? encoder.encode(content)
        case .picture(let content): data = try? encoder.encode(content)
        case .video(let content): data = try? encoder.encode(content)
        case .pin(let content): data = try? encoder.encode(content)
        case .board(let content): data = try? encoder.encode(content)
        case .linkedinPost(let content): data = try? encoder.encode(content)
        case .youtubeVideo(let content): data = try? encoder.encode(content)
        case .playlistItem(let content): data = try? encoder.encode(content)
        case .playlist(let content): data = try? encoder.encode(content)
        case .channelSection(let content): data = try? encoder.encode(content)
        case .facebookPagePost(let content): data = try? encoder.encode(content)
        case .facebookPagePicture(let content): data = try? encoder.encode(content)
        case .facebookPageVideo(let content): data = try? encoder.encode(content)
        }
        return data.flatMap { String(data: $0, encoding: .utf8) } ?? "{}"
    }

    /// Decodes the stored form for the operation it was made for.
    public static func decode(_ json: String, for operation: Operation) throws -> PublishContent {
        let decoder = JSONDecoder()
        let data = Data(json.utf8)
        switch operation {
        case .linkedinPost, .linkedinCompanyPost: return .linkedinPost(try decoder.decode(LinkedInPostContent.self, from: data))
        case .youtubeVideo: return .youtubeVideo(try decoder.decode(YouTubeVideoContent.self, from: data))
        case .youtubePlaylistVideo: return .playlistItem(try decoder.decode(PlaylistItemContent.self, from: data))
        case .youtubePlaylist: return .playlist(try decoder.decode(PlaylistContent.self, from: data))
        case .youtubeChannelSection: return .channelSection(try decoder.decode(ChannelSectionContent.self, from: data))
        case .facebookPagePost: return .facebookPagePost(try decoder.decode(FacebookPagePost.self, from: data))
        case .facebookPagePicture: return .facebookPagePicture(try decoder.decode(FacebookPagePicture.self, from: data))
        case .facebookPageVideo: return .facebookPageVideo(try decoder.decode(FacebookPageVideo.self, from: data))
        default: break
        }
        switch operation.object {
        case "post": return .post(try decoder.decode(PostContent.self, from: data))
        case "picture": return .picture(try decoder.decode(PictureContent.self, from: data))
        case "video": return .video(try decoder.decode(VideoContent.self, from: data))
        case "pin": return .pin(try decoder.decode(PinContent.self, from: data))
        case "board": return .board(try decoder.decode(BoardContent.self, from: data))
        default:
            throw RelayError.internalError("no stored form for \(operation.rawValue)")
        }
    }
}
