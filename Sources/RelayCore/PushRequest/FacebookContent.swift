/// A post on a Facebook page (`facebook/page/post`, oneall.md §5.7).
public struct FacebookPagePost: Sendable, Codable, Hashable {
    public var pageID: String
    public var post: PostContent

    enum CodingKeys: String, CodingKey {
        case pageID = "page_id"
        case post
    }

    public init(pageID: String, post: PostContent) {
        self.pageID = pageID
        self.post = post
    }
}

/// One or several pictures on a Facebook page (`facebook/page/picture`, oneall.md §5.8). Several
/// pictures become one multi-photo post; `createPost: false` uploads them unpublished, to attach later.
public struct FacebookPagePicture: Sendable, Codable, Hashable {
    public var pageID: String
    public var urls: [String]
    public var description: String?
    public var createPost: Bool

    enum CodingKeys: String, CodingKey {
        case pageID = "page_id"
        case urls, description
        case createPost = "create_post"
    }

    public init(pageID: String, urls: [String], description: String? = nil, createPost: Bool = true) {
        self.pageID = pageID
        self.urls = urls
        self.description = description
        self.createPost = createPost
    }
}

/// A video on a Facebook page (`facebook/page/video`, oneall.md §5.9).
public struct FacebookPageVideo: Sendable, Codable, Hashable {
    public var pageID: String
    public var video: VideoContent

    enum CodingKeys: String, CodingKey {
        case pageID = "page_id"
        case video
    }

    public init(pageID: String, video: VideoContent) {
        self.pageID = pageID
        self.video = video
    }
}
