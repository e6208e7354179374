/// The Facebook routes (oneall.md §5.1–5.9).
///
/// The user-profile and group routes are validated like any other, then answered 409 by the intake
/// (Facebook removed that publishing). The page routes take OneAll's SDK form (everything flat under
/// `page`) or the split form (`page:{id}` with `post`/`picture`/`video`; the split object wins per field).
extension PushRequestParser {
    static func facebook(
        _ push: FieldReader, route: MatchedOperation, callbackURL: inout String?
    ) throws(RelayError) -> PublishContent {
        let object = route.operation.object
        let source: FieldReader
        switch route.operation {
        case .facebookPost, .facebookPicture, .facebookVideo:
            source = try push.requiredObject(object)
        case .facebookGroupPost, .facebookGroupPicture, .facebookGroupVideo:
            // `group:{id}` with the content in `post`/`picture`/`video`, or flat inside `group` (SDK style).
            let group = try push.requiredObject("group")
            guard try group.identifier("id") != nil else { throw .badRequest("\(group.field("id")) is required") }
            source = try push.object(object) ?? group
        default:
            return try facebookPage(push, route: route, callbackURL: &callbackURL)
        }
        switch object {
        case "post": return .post(try facebookPost(source))
        case "picture":
            return .picture(
                PictureContent(
                    url: try source.requiredURL("url"), description: try source.string("description"),
                    createPost: try source.bool("create_post") ?? true))
        default:
            callbackURL = try source.url("callback_url") ?? callbackURL
            guard let url = try source.url(anyOf: ["url", "video_url"]) else { throw .badRequest("\(source.field("url")) is required") }
            return .video(VideoContent(url: url, title: try source.string("title"), description: try source.string("description")))
        }
    }

    static func facebookPage(
        _ push: FieldReader, route: MatchedOperation, callbackURL: inout String?
    ) throws(RelayError) -> PublishContent {
        let page = try push.requiredObject("page")
        guard let pageID = try page.identifier("id") else { throw .badRequest("\(page.field("id")) is required: the id of a page the user administers") }
        guard pageID.allSatisfy(\.isASCIIDigitCharacter) else { throw .badRequest("\(page.field("id")) must be a Facebook page id (digits), got \"\(pageID)\"") }
        // The split object's fields win; the rest come from the flat `page` object.
        let split = try push.object(route.operation.object)
        let merged: FieldReader
        if let split, case .object(var members) = page.value, case .object(let own) = split.value {
            members.removeAll { member in own.contains { $0.0 == member.0 } }
            merged = FieldReader(.object(members + own), path: split.path)
        } else {
            merged = page
        }
        switch route.operation {
        case .facebookPagePost:
            return .facebookPagePost(FacebookPagePost(pageID: pageID, post: try facebookPost(merged)))
        case .facebookPagePicture:
            var urls: [String] = []
            if case .array(let items)? = merged.present("url") ?? merged.present("urls") {
                for (index, item) in items.enumerated() {
                    guard case .string(let text) = item else { throw .badRequest("\(merged.field("url"))[\(index)] must be a URL string") }
                    urls.append(try FieldReader.checkURL(text, field: "\(merged.field("url"))[\(index)]"))
                }
            } else if let url = try merged.url("url") {
                urls = [url]
            }
            guard !urls.isEmpty else { throw .badRequest("\(merged.field("url")) is required") }
            guard urls.count <= 10 else { throw .badRequest("\(merged.field("url")) may list at most 10 pictures, got \(urls.count)") }
            return .facebookPagePicture(
                FacebookPagePicture(
                    pageID: pageID, urls: urls, description: try merged.string("description"),
                    createPost: try merged.bool("create_post") ?? true))
        default:
            callbackURL = try merged.url("callback_url") ?? callbackURL
            guard let url = try merged.url(anyOf: ["url", "video_url"]) else { throw .badRequest("\(merged.field("url")) is required") }
            return .facebookPageVideo(
                FacebookPageVideo(
                    pageID: pageID,
                    video: VideoContent(url: url, title: try merged.string("title", maxLength: 255), description: try merged.string("description"))))
        }
    }

    /// `message` and/or `link` (a URL, or `{"url":…}` as one OneAll sample sends it), and `attachments`.
    static func facebookPost(_ post: FieldReader) throws(RelayError) -> PostContent {
        let link: String?
        switch post.present("link") {
        case .object?: link = try post.requiredObject("link").requiredURL("url")
        default: link = try post.url("link")
        }
        let message = try post.string("message")
        let attachments = try post.identifiers("attachments")
        if message == nil && link == nil {
            throw .badRequest("\(post.field("message")) or \(post.field("link")) is required")
        }
        if link != nil && !attachments.isEmpty {
            throw .badRequest("\(post.field("link")) and \(post.field("attachments")) cannot be combined (Facebook shows either a link or pictures)")
        }
        return PostContent(message: message, link: link, attachments: attachments)
    }
}
