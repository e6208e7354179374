/// The LinkedIn routes (oneall.md §5.10–5.11).
extension PushRequestParser {
    static func linkedin(_ push: FieldReader, route: MatchedOperation) throws(RelayError) -> PublishContent {
        let post = try push.requiredObject("post")
        var companyID: String?
        if route.operation == .linkedinCompanyPost {
            // `post.company` (OneAll's SDK), else a `company:{id}` sibling.
            companyID = try post.identifier("company")
            if companyID == nil, let company = try push.object("company") { companyID = try company.identifier("id") }
            guard let id = companyID else { throw .badRequest("\(post.field("company")) is required: the LinkedIn organization id") }
            guard id.allSatisfy(\.isASCIIDigitCharacter) else {
                throw .badRequest("\(post.field("company")) must be a LinkedIn organization id (digits), got \"\(id)\"")
            }
        }
        let message = try post.string("message", maxLength: 3000)
        let link = try post.url("link")
        if message == nil && link == nil {
            throw .badRequest("\(post.field("message")) or \(post.field("link")) is required")
        }
        return .linkedinPost(
            LinkedInPostContent(
                message: message, link: link, title: try post.string("title", maxLength: 400),
                description: try post.string("description", maxLength: 4086), pictureURL: try post.url("picture"), companyID: companyID))
    }
}
