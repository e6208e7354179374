/// A LinkedIn share (OneAll `post`, oneall.md §5.10–5.11): text, an optional link with its title and
/// description, and an optional picture shown as the link's thumbnail or as the post's image.
public struct LinkedInPostContent: Sendable, Codable, Hashable {
    public var message: String?
    public var link: String?
    public var title: String?
    public var description: String?
    public var pictureURL: String?
    /// The organization of `linkedin/company/post`; nil for the member's own profile.
    public var companyID: String?

    enum CodingKeys: String, CodingKey {
        case message, link, title, description
        case pictureURL = "picture"
        case companyID = "company"
    }

    public init(
        message: String? = nil, link: String? = nil, title: String? = nil, description: String? = nil, pictureURL: String? = nil,
        companyID: String? = nil
    ) {
        self.message = message
        self.link = link
        self.title = title
        self.description = description
        self.pictureURL = pictureURL
        self.companyID = companyID
    }
}
