/// The Pinterest routes (oneall.md §5.12–5.13), with Pinterest's own limits (providers.md §3.1–3.2)
/// checked here so a client learns of them at once instead of from a failed job.
extension PushRequestParser {
    static func pinterest(_ push: FieldReader, route: MatchedOperation) throws(RelayError) -> PublishContent {
        switch route.operation {
        case .pinterestBoard:
            let board = try push.requiredObject("board")
            guard let name = try board.string("name", maxLength: 180) else { throw .badRequest("\(board.field("name")) is required") }
            var privacy = BoardContent.Privacy.public
            if let text = try board.string("privacy") {
                guard let value = BoardContent.Privacy(rawValue: text.uppercased()) else {
                    throw .badRequest("\(board.field("privacy")) must be public, protected or secret, got \"\(RelayError.excerpt(text))\"")
                }
                privacy = value
            }
            return .board(BoardContent(name: name, description: try board.string("description", maxLength: 500), privacy: privacy))
        default:
            let pin = try push.requiredObject("pin")
            let boardID: String
            if let fromPath = route.parameters["board_id"] {
                boardID = fromPath
            } else {
                // Legacy `pinterest/pin`: the board travels in the body.
                guard let fromBody = try pin.identifier("board") else { throw .badRequest("\(pin.field("board")) is required") }
                boardID = fromBody
            }
            guard !boardID.isEmpty, boardID.allSatisfy(\.isASCIIDigitCharacter) else {
                throw .badRequest("The board must be a Pinterest board id (digits), got \"\(boardID)\"")
            }
            guard let imageURL = try pin.url(anyOf: ["picture", "image_url", "url"]) else {
                throw .badRequest("\(pin.field("picture")) is required: the URL of the image to pin")
            }
            guard let description = try pin.string(anyOf: ["description", "note"], maxLength: 800) else {
                throw .badRequest("\(pin.field("description")) is required")
            }
            var link: String?
            if let text = try pin.string("link", maxLength: 2048) {
                link = try FieldReader.checkURL(text.trimmingCharacters(in: .whitespaces), field: pin.field("link"))
            }
            return .pin(
                PinContent(
                    boardID: boardID, imageURL: imageURL, description: description,
                    title: try pin.string("title", maxLength: 100), link: link))
        }
    }
}
