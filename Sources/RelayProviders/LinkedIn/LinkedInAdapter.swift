import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore

/// Publishes to LinkedIn through the Posts API (providers.md §2): member and organization posts, with
/// a picture uploaded first through the Images API.
public struct LinkedInAdapter: ProviderAdapter {
    public let provider = Provider.linkedin
    /// Origin (optionally with a path prefix); `/rest/posts` and `/rest/images` are appended.
    public let baseURL: String
    /// `LinkedIn-Version`, YYYYMM (`PUSHRELAY_LINKEDIN_VERSION`).
    public let version: String

    public init(baseURL: String, version: String) {
        self.baseURL = baseURL
        self.version = version
    }

    /// Images API formats (providers.md §2.3). LinkedIn limits pixels (36,152,320), not bytes; the byte
    /// bound keeps a fetch from running away.
    static let pictureLimits = MediaLimits(
        what: "picture on LinkedIn", types: [.jpeg: 36_152_320, .png: 36_152_320, .gif: 36_152_320])

    public func publish(_ job: PublishJob, session: ProviderSession) async -> PublishOutcome {
        guard case .linkedinPost(let post) = job.content else {
            return .failed(.internalError("the LinkedIn adapter cannot publish \(job.route.path)"))
        }
        do {
            return .succeeded(try await share(post, job: job, session: session))
        } catch {
            return error.outcome
        }
    }

    func share(_ post: LinkedInPostContent, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> JSONValue {
        let author = post.companyID.map { "urn:li:organization:\($0)" } ?? "urn:li:person:\(job.providerUserID)"
        var image = job.progress["image"]?.stringValue
        if image == nil, let picture = post.pictureURL {
            image = try await uploadImage(picture, owner: author, job: job, session: session)
        }
        var body: [(String, JSONValue)] = [
            ("author", .string(author)),
            ("commentary", .string(Self.escapedLittleText(post.message ?? ""))),
            ("visibility", "PUBLIC"),
            ("distribution", ["feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []]),
            ("lifecycleState", "PUBLISHED"),
            ("isReshareDisabledByAuthor", false),
        ]
        if let link = post.link {
            var article: [(String, JSONValue)] = [("source", .string(link))]
            if let title = post.title { article.append(("title", .string(title))) }
            if let description = post.description { article.append(("description", .string(description))) }
            if let image { article.append(("thumbnail", .string(image))) }
            body.append(("content", ["article": .object(article)]))
        } else if let image {
            var media: [(String, JSONValue)] = [("id", .string(image))]
            if let title = post.title { media.append(("title", .string(title))) }
            if let description = post.description { media.append(("altText", .string(String(description.prefix(4086))))) }
            body.append(("content", ["media": .object(media)]))
        }
        let response = try await session.call(
            ProviderStep("posts.create", publishes: true), request("/rest/posts", body: .object(body), token: job.credentials.accessToken),
            summary: [
                "author": .string(author), "commentary_length": .integer(Int64(post.message?.count ?? 0)),
                "link": post.link.map(JSONValue.string) ?? .null, "image": image.map(JSONValue.string) ?? .null,
            ],
            provider: provider, classify: classify)
        guard let urn = response.header("x-restli-id"), !urn.isEmpty else { throw .unexpected(provider, response, "posts.create") }
        var data: [(String, JSONValue)] = [("provider", "linkedin"), ("object", "post")]
        if let company = post.companyID { data.append(("company_id", .string(company))) }
        data.append(("post_id", .string(urn)))
        data.append(("post_location", .string("https://www.linkedin.com/feed/update/\(urn)/")))
        return .object(data)
    }

    /// Images API: initialize, then PUT the bytes to the upload URL LinkedIn gave (providers.md §2.3).
    func uploadImage(_ url: String, owner: String, job: PublishJob, session: ProviderSession) async throws(PublishStop) -> String {
        let media = try await session.media.open(url, field: "request.push.post.picture", limits: Self.pictureLimits)
        let bytes = try await media.collect()
        let initialized = try await session.call(
            ProviderStep("images.initializeUpload"),
            request("/rest/images?action=initializeUpload", body: ["initializeUploadRequest": ["owner": .string(owner)]], token: job.credentials.accessToken),
            summary: ["owner": .string(owner)], provider: provider, classify: classify)
        guard let uploadURL = initialized.json?["value"]?["uploadUrl"]?.stringValue,
            let image = initialized.json?["value"]?["image"]?.stringValue
        else { throw .unexpected(provider, initialized, "images.initializeUpload") }
        var upload = HTTPClientRequest(url: uploadURL)
        upload.method = .PUT
        upload.headers.add(name: "Authorization", value: "Bearer \(job.credentials.accessToken)")
        upload.headers.add(name: "Content-Type", value: media.type.mimeType)
        upload.body = .bytes(bytes)
        _ = try await session.call(
            ProviderStep("images.upload"), upload,
            summary: ["image": .string(image), "bytes": .integer(Int64(bytes.readableBytes)), "media_type": .string(media.type.mimeType)],
            provider: provider, classify: classify)
        try await session.checkpoint(["image": .string(image)])
        return image
    }

    /// A JSON call to `/rest` with the headers LinkedIn requires on every one of them.
    func request(_ path: String, body: JSONValue, token: String) -> HTTPClientRequest {
        var request = HTTPClientRequest.jsonPost(baseURL + path, body: body, bearer: token)
        request.headers.add(name: "LinkedIn-Version", value: version)
        request.headers.add(name: "X-Restli-Protocol-Version", value: "2.0.0")
        return request
    }

    /// LinkedIn's "little text" format: its reserved characters are escaped so the text reads as written.
    static func escapedLittleText(_ text: String) -> String {
        let reserved: Set<Character> = ["\\", "|", "{", "}", "@", "[", "]", "(", ")", "<", ">", "#", "*", "_", "~"]
        var escaped = ""
        for character in text {
            if reserved.contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    func classify(_ response: ProviderResponse, _ now: Date) -> ResponseClassification {
        LinkedInResponseClassifier.classify(status: response.status, headers: response.headers, body: response.body, now: now)
    }
}
