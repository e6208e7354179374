/// A text post: a tweet, a Facebook page post, a LinkedIn share.
public struct PostContent: Sendable, Codable, Hashable {
    public var message: String?
    public var link: String?
    /// Provider ids of media uploaded earlier (`picture_id` / `video_id` replies).
    public var attachments: [String]
    /// X: a place id attached to the tweet.
    public var location: String?

    public init(message: String? = nil, link: String? = nil, attachments: [String] = [], location: String? = nil) {
        self.message = message
        self.link = link
        self.attachments = attachments
        self.location = location
    }
}

/// A picture given by URL, uploaded by us or fetched by the provider.
public struct PictureContent: Sendable, Codable, Hashable {
    public var url: String
    public var description: String?
    /// `false` uploads without publishing a post (OneAll's `create_post`, default true).
    public var createPost: Bool

    enum CodingKeys: String, CodingKey {
        case url, description
        case createPost = "create_post"
    }

    public init(url: String, description: String? = nil, createPost: Bool = true) {
        self.url = url
        self.description = description
        self.createPost = createPost
    }
}

/// A video given by URL, streamed to the provider.
public struct VideoContent: Sendable, Codable, Hashable {
    public var url: String
    public var title: String?
    public var description: String?

    enum CodingKeys: String, CodingKey {
        case url = "video_url"
        case title, description
    }

    public init(url: String, title: String? = nil, description: String? = nil) {
        self.url = url
        self.title = title
        self.description = description
    }
}
