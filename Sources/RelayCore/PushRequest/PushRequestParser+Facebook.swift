/// The Facebook routes (oneall.md §5.1–5.9).
///
/// The user-profile and group routes are validated like any other, then answered 409 by the intake
/// (Facebook removed that publishing); the page routes come with the Facebook adapter.
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
            throw notAvailable(route)
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
