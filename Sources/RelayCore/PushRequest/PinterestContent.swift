/// A pin to create: an image given by URL, on a board (OneAll `pin`, providers.md §3.1).
///
/// Pinterest fetches the image itself, so PushRelay never downloads it.
public struct PinContent: Sendable, Codable, Hashable {
    public var boardID: String
    public var imageURL: String
    public var description: String
    public var title: String?
    public var link: String?

    enum CodingKeys: String, CodingKey {
        case boardID = "board_id"
        case imageURL = "image_url"
        case description, title, link
    }

    public init(boardID: String, imageURL: String, description: String, title: String? = nil, link: String? = nil) {
        self.boardID = boardID
        self.imageURL = imageURL
        self.description = description
        self.title = title
        self.link = link
    }
}

/// A Pinterest board to create (OneAll `board`, providers.md §3.2).
public struct BoardContent: Sendable, Codable, Hashable {
    /// Pinterest's board privacy values.
    public enum Privacy: String, Sendable, Codable, CaseIterable {
        case `public` = "PUBLIC", protected = "PROTECTED", secret = "SECRET"
    }

    public var name: String
    public var description: String?
    public var privacy: Privacy

    public init(name: String, description: String? = nil, privacy: Privacy = .public) {
        self.name = name
        self.description = description
        self.privacy = privacy
    }
}
