/// The YouTube routes (oneall.md §5.17–5.20), with YouTube's own limits (providers.md §5).
extension PushRequestParser {
    static func youtube(_ push: FieldReader, route: MatchedOperation, callbackURL: inout String?) throws(RelayError) -> PublishContent {
        switch route.operation {
        case .youtubeVideo:
            let video = try push.requiredObject("video")
            callbackURL = try video.url("callback_url") ?? callbackURL
            guard let title = try video.string("title", maxLength: 100) else { throw .badRequest("\(video.field("title")) is required") }
            if title.contains(where: { $0 == "<" || $0 == ">" }) {
                throw .badRequest("\(video.field("title")) may not contain < or > (YouTube refuses them)")
            }
            let description = try video.string("description")
            if let description, description.utf8.count > 5000 {
                throw .badRequest("\(video.field("description")) is \(description.utf8.count) bytes long; YouTube's limit is 5000")
            }
            return .youtubeVideo(
                YouTubeVideoContent(
                    url: try videoURL(video), title: title, description: description, thumbnailURL: try video.url("thumbnail_url"),
                    privacy: try privacy(video) ?? .public, tags: try strings(video, "tags")))
        case .youtubePlaylistVideo:
            let video = try push.requiredObject("video")
            var videoID = try video.identifier("id")
            if videoID == nil { videoID = try video.identifier("video_id") }
            guard let videoID else {
                throw .badRequest("\(video.field("id")) is required: the YouTube id of the video to add")
            }
            return .playlistItem(
                PlaylistItemContent(
                    playlistID: route.parameters["playlist_id"] ?? "", videoID: videoID, position: try position(video),
                    note: try video.string("note", maxLength: 280)))
        case .youtubePlaylist:
            let playlist = try push.requiredObject("playlist")
            guard let title = try playlist.string("title", maxLength: 150) else { throw .badRequest("\(playlist.field("title")) is required") }
            return .playlist(
                PlaylistContent(
                    title: title, description: try playlist.string("description", maxLength: 5000), privacy: try privacy(playlist),
                    defaultLanguage: try playlist.string("default_language")))
        default:
            // `channel.section` as OneAll's Update API nests it, or `section`.
            let section: FieldReader
            if let channel = try push.object("channel") {
                section = try channel.requiredObject("section")
            } else {
                section = try push.requiredObject("section")
            }
            guard let type = try section.string("type") else { throw .badRequest("\(section.field("type")) is required") }
            guard ChannelSectionContent.types.contains(type) else {
                throw .badRequest(
                    "\(section.field("type")) must be one of \(ChannelSectionContent.types.sorted().joined(separator: ", ")), got \"\(type)\"")
            }
            let content = ChannelSectionContent(
                type: type, title: try section.string("title", maxLength: 100), position: try position(section),
                defaultLanguage: try section.string(anyOf: ["defaultLanguage", "default_language"], maxLength: 35),
                playlists: try section.identifiers("playlists"), channels: try section.identifiers("channels"))
            switch type {
            case "singlePlaylist" where content.playlists.count != 1:
                throw .badRequest("\(section.field("playlists")) must hold exactly one playlist id for a singlePlaylist section")
            case "multiplePlaylists" where content.playlists.isEmpty || content.title == nil:
                throw .badRequest("a multiplePlaylists section needs \(section.field("playlists")) and \(section.field("title"))")
            case "multipleChannels" where content.channels.isEmpty || content.title == nil:
                throw .badRequest("a multipleChannels section needs \(section.field("channels")) and \(section.field("title"))")
            default: break
            }
            return .channelSection(content)
        }
    }

    static func privacy(_ object: FieldReader) throws(RelayError) -> YouTubePrivacy? {
        guard let text = try object.string("privacy_status") else { return nil }
        guard let value = YouTubePrivacy(rawValue: text.lowercased()) else {
            throw .badRequest("\(object.field("privacy_status")) must be public, unlisted or private, got \"\(RelayError.excerpt(text))\"")
        }
        return value
    }

    static func position(_ object: FieldReader) throws(RelayError) -> Int? {
        guard let member = object.present("position") else { return nil }
        guard case .integer(let number) = member, number >= 0, number <= 10_000 else {
            throw .badRequest("\(object.field("position")) must be a whole number from 0")
        }
        return Int(number)
    }

    static func strings(_ object: FieldReader, _ key: String) throws(RelayError) -> [String] {
        guard let member = object.present(key) else { return [] }
        guard case .array(let items) = member else { throw .badRequest("\(object.field(key)) must be an array of strings, got \(member.typeName)") }
        var values: [String] = []
        for (index, item) in items.enumerated() {
            guard case .string(let text) = item else { throw .badRequest("\(object.field(key))[\(index)] must be a string") }
            if !text.isEmpty { values.append(text) }
        }
        return values
    }
}
