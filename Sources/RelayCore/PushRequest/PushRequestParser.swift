import Foundation

/// Turns a OneAll request body into a `PublishRequest`, or a 400 naming the field at fault.
///
/// One function per route family; the field names and aliases are those of `shared/docs/oneall.md`.
public enum PushRequestParser {
    /// Parses `{"request":{"push":{…}}}` for the matched route.
    public static func parse(_ body: JSONValue, route: MatchedOperation) throws(RelayError) -> PublishRequest {
        guard case .object = body else {
            throw .badRequest("The request body must be a JSON object of the form {\"request\":{\"push\":{…}}}")
        }
        let root = FieldReader(body, path: "")
        let requestObject = try root.requiredObject("request")
        let push = try requestObject.requiredObject("push")

        var callbackURL = try requestObject.url("callback_url")
        let content: PublishContent
        switch route.operation.provider {
        case .twitter: content = try twitter(push, route: route, callbackURL: &callbackURL)
        case .facebook: content = try facebook(push, route: route, callbackURL: &callbackURL)
        case .pinterest: content = try pinterest(push, route: route)
        case .linkedin: content = try linkedin(push, route: route)
        case .youtube: content = try youtube(push, route: route, callbackURL: &callbackURL)
        }

        return PublishRequest(
            route: route, content: content, callbackURL: callbackURL,
            scheduledAt: try scheduledAt(requestObject))
    }

    /// The 404 of routes whose provider adapter is not part of this version.
    static func notAvailable(_ route: MatchedOperation) -> RelayError {
        .notFound("\(route.operation.provider.displayName) publishing (\(route.path)) is not available in this version of PushRelay")
    }

    static func twitter(
        _ push: FieldReader, route: MatchedOperation, callbackURL: inout String?
    ) throws(RelayError) -> PublishContent {
        let object = try push.requiredObject(route.operation.object)
        switch route.operation {
        case .twitterPost:
            return .post(try twitterPost(object))
        case .twitterPicture:
            return .picture(
                PictureContent(url: try object.requiredURL("url"), description: try object.string("description"), createPost: false))
        default:
            callbackURL = try object.url("callback_url") ?? callbackURL
            return .video(VideoContent(url: try videoURL(object)))
        }
    }

    static func twitterPost(_ post: FieldReader) throws(RelayError) -> PostContent {
        let message = try post.string("message")
        let attachments = try post.identifiers("attachments")
        if message == nil && attachments.isEmpty {
            throw .badRequest("\(post.field("message")) is required unless \(post.field("attachments")) lists media")
        }
        if attachments.count > 4 {
            throw .badRequest("\(post.field("attachments")) may list at most 4 media ids (X's limit), got \(attachments.count)")
        }
        if let bad = attachments.first(where: { !$0.allSatisfy(\.isASCIIDigitCharacter) }) {
            throw .badRequest("\(post.field("attachments")) must hold X media ids (digits), got \"\(bad)\"")
        }
        return PostContent(message: message, attachments: attachments, location: try post.identifier("location"))
    }

    /// `video_url`, with `url` accepted as an alias.
    static func videoURL(_ video: FieldReader) throws(RelayError) -> String {
        if let url = try video.url("video_url") { return url }
        if let url = try video.url("url") { return url }
        throw .badRequest("\(video.field("video_url")) is required")
    }

    static func scheduledAt(_ request: FieldReader) throws(RelayError) -> Date? {
        guard let schedule = try request.object("schedule") else { return nil }
        guard let text = try schedule.string("at") else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw .badRequest("\(schedule.field("at")) must be an RFC 3339 date-time, e.g. 2026-11-25T10:00:00Z")
        }
        return date
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
