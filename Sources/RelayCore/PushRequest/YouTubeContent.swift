/// YouTube's privacy values, as OneAll's `privacy_status` takes them.
public enum YouTubePrivacy: String, Sendable, Codable, CaseIterable {
    case `public`, unlisted, `private`
}

/// A video to upload to YouTube (OneAll `youtube/video`, oneall.md §5.17): streamed from its URL
/// through a resumable upload session.
public struct YouTubeVideoContent: Sendable, Codable, Hashable {
    public var url: String
    public var title: String
    public var description: String?
    public var thumbnailURL: String?
    public var privacy: YouTubePrivacy
    public var tags: [String]

    enum CodingKeys: String, CodingKey {
        case url = "video_url"
        case title, description, tags
        case thumbnailURL = "thumbnail_url"
        case privacy = "privacy_status"
    }

    public init(
        url: String, title: String, description: String? = nil, thumbnailURL: String? = nil, privacy: YouTubePrivacy = .public,
        tags: [String] = []
    ) {
        self.url = url
        self.title = title
        self.description = description
        self.thumbnailURL = thumbnailURL
        self.privacy = privacy
        self.tags = tags
    }
}

/// A video to add to a playlist (`youtube/playlist/<id>/video`, oneall.md §5.18).
public struct PlaylistItemContent: Sendable, Codable, Hashable {
    public var playlistID: String
    public var videoID: String
    public var position: Int?
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case playlistID = "playlist_id"
        case videoID = "video_id"
        case position, note
    }

    public init(playlistID: String, videoID: String, position: Int? = nil, note: String? = nil) {
        self.playlistID = playlistID
        self.videoID = videoID
        self.position = position
        self.note = note
    }
}

/// A playlist to create (`youtube/playlist`, oneall.md §5.19).
public struct PlaylistContent: Sendable, Codable, Hashable {
    public var title: String
    public var description: String?
    public var privacy: YouTubePrivacy?
    public var defaultLanguage: String?

    enum CodingKeys: String, CodingKey {
        case title, description
        case privacy = "privacy_status"
        case defaultLanguage = "default_language"
    }

    public init(title: String, description: String? = nil, privacy: YouTubePrivacy? = nil, defaultLanguage: String? = nil) {
        self.title = title
        self.description = description
        self.privacy = privacy
        self.defaultLanguage = defaultLanguage
    }
}

/// A channel section to add (`youtube/channel/section`, oneall.md §5.20).
public struct ChannelSectionContent: Sendable, Codable, Hashable {
    /// The section types YouTube still accepts, and what each needs.
    public static let types: Set<String> = [
        "allPlaylists", "completedEvents", "liveEvents", "multipleChannels", "multiplePlaylists", "popularUploads",
        "recentUploads", "singlePlaylist", "subscriptions", "upcomingEvents",
    ]

    public var type: String
    public var title: String?
    public var position: Int?
    public var defaultLanguage: String?
    public var playlists: [String]
    public var channels: [String]

    enum CodingKeys: String, CodingKey {
        case type, title, position, playlists, channels
        case defaultLanguage = "default_language"
    }

    public init(type: String, title: String? = nil, position: Int? = nil, defaultLanguage: String? = nil, playlists: [String] = [], channels: [String] = []) {
        self.type = type
        self.title = title
        self.position = position
        self.defaultLanguage = defaultLanguage
        self.playlists = playlists
        self.channels = channels
    }
}
