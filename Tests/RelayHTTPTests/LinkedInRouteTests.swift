import Foundation
import ProviderSandbox
import RelayCore
import RelayProviders
import Testing
import TestSupport

/// The LinkedIn routes through the real server, a real PostgreSQL and the sandbox (providers.md §2).
@Suite struct LinkedInRouteTests {
    @Test func textPostOnTheMembersProfile() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "linkedin")
        let reply = try await env.push(
            identity, "linkedin/post",
            #"{"request":{"push":{"post":{"message":"Hello (world) #1","link":"","title":"","description":"","picture":""}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let data = try #require(reply.data)
        #expect(data["provider"] == "linkedin")
        #expect(data["object"] == "post")
        let urn = try #require(data["post_id"]?.stringValue)
        #expect(urn.hasPrefix("urn:li:share:"))
        #expect(data["post_location"]?.stringValue == "https://www.linkedin.com/feed/update/\(urn)/")
        try await env.expectStored(reply, route: "linkedin/post", steps: ["posts.create"])

        let sent = try #require(env.sandbox.recorder.requests(provider: "linkedin", token: identity.accessToken).first)
        #expect(sent.path == "/rest/posts")
        #expect(sent.header("linkedin-version") == "202610")
        #expect(sent.header("x-restli-protocol-version") == "2.0.0")
        #expect(sent.body?["author"]?.stringValue == "urn:li:person:\(identity.providerUserID)")
        #expect(sent.body?["commentary"] == ##"Hello \(world\) \#1"##)
        #expect(sent.body?["visibility"] == "PUBLIC")
        #expect(sent.body?["lifecycleState"] == "PUBLISHED")
        #expect(sent.body?["content"] == nil)
    }

    @Test func linkWithPictureBecomesAnArticleWithAnUploadedThumbnail() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "linkedin")
        let picture = env.sandbox.mediaURL("stadium.jpg", bytes: 50_000)
        let reply = try await env.push(
            identity, "linkedin/post",
            #"{"request":{"push":{"post":{"title":"My holiday in Spain!","description":"Barcelona stadium","message":"Best part of the trip","link":"https://www.fcbarcelona.com/","picture":"\#(picture)"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let sent = env.sandbox.recorder.requests(provider: "linkedin", token: identity.accessToken)
        try #require(sent.count == 3, "\(sent.map(\.path))")
        #expect(sent.map(\.path) == ["/rest/images", sent[1].path, "/rest/posts"])
        #expect(sent[1].path.hasPrefix("/dms-uploads/"))
        #expect(sent[0].query == "action=initializeUpload")
        #expect(sent[0].body == ["initializeUploadRequest": ["owner": .string("urn:li:person:\(identity.providerUserID)")]])
        #expect(sent[1].method == "PUT")
        #expect(sent[1].bodySize == 50_000)
        let article = try #require(sent[2].body?["content"]?["article"])
        #expect(article["source"] == "https://www.fcbarcelona.com/")
        #expect(article["title"] == "My holiday in Spain!")
        #expect(article["description"] == "Barcelona stadium")
        #expect(article["thumbnail"]?.stringValue?.hasPrefix("urn:li:image:") == true)

        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let steps = try await env.finalEvent(eventID)["attempts"]?.arrayValue?.map { $0["step"] }
        #expect(steps == ["images.initializeUpload", "images.upload", "posts.create"])
    }

    @Test func pictureWithoutLinkIsAnImagePost() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "linkedin")
        let picture = env.sandbox.mediaURL("team.png")
        let reply = try await env.push(
            identity, "linkedin/post", #"{"request":{"push":{"post":{"message":"Our team","picture":"\#(picture)","description":"The whole team"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let post = try #require(env.sandbox.recorder.requests(provider: "linkedin", token: identity.accessToken).last)
        #expect(post.body?["content"]?["media"]?["id"]?.stringValue?.hasPrefix("urn:li:image:") == true)
        #expect(post.body?["content"]?["media"]?["altText"] == "The whole team")
    }

    @Test func companyPostUsesTheOrganizationAsAuthor() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "linkedin")
        let reply = try await env.push(
            identity, "linkedin/company/post", #"{"request":{"push":{"post":{"company":2414183,"message":"We are hiring","link":"https://example.com/jobs"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.data?["company_id"] == "2414183")
        try await env.expectStored(reply, route: "linkedin/company/post", steps: ["posts.create"])
        let sent = try #require(env.sandbox.recorder.requests(provider: "linkedin", token: identity.accessToken).first)
        #expect(sent.body?["author"] == "urn:li:organization:2414183")
        #expect(sent.body?["content"]?["article"]?["source"] == "https://example.com/jobs")

        let sibling = try await env.push(
            identity, "linkedin/company/post", #"{"request":{"push":{"company":{"id":"42"},"post":{"message":"Sibling form"}}}}"#)
        #expect(sibling.data?["company_id"] == "42")
    }

    @Test func badPostsAre400() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "linkedin")
        let cases: [(String, String, String)] = [
            ("linkedin/post", #"{"request":{"push":{"post":{"title":"only a title"}}}}"#, "request.push.post.message or request.push.post.link"),
            ("linkedin/post", #"{"request":{"push":{"post":{"message":"x","link":"not a url"}}}}"#, "request.push.post.link"),
            ("linkedin/company/post", #"{"request":{"push":{"post":{"message":"no company"}}}}"#, "request.push.post.company"),
            ("linkedin/company/post", #"{"request":{"push":{"post":{"company":"acme","message":"x"}}}}"#, "organization id"),
        ]
        for (route, body, mention) in cases {
            let reply = try await env.push(identity, route, body)
            #expect(reply.status == 400, "\(body)")
            #expect(reply.info?.contains(mention) == true, "\(reply.info ?? "")")
        }
        let notAnImage = try await env.push(
            identity, "linkedin/post", #"{"request":{"push":{"post":{"message":"x","picture":"\#(env.sandbox.mediaURL("notes.bin"))"}}}}"#)
        #expect(notAnImage.status == 400)
        #expect(env.sandbox.recorder.requests(provider: "linkedin", token: identity.accessToken).isEmpty)
    }

    /// The adapter alone against the sandbox: a second relay's workers would claim other tests' jobs.
    @Test func aSunsetLinkedInVersionIsReportedClearly() async throws {
        let env = try await TestEnvironment.shared.value
        let adapter = LinkedInAdapter(baseURL: env.sandbox.baseURL(for: .linkedin), version: "202301")
        let session = ProviderSession(
            http: env.http, media: MediaFetcher(http: env.http, policy: AddressPolicy(allowPrivate: true)), logger: env.logger,
            saveProgress: { _, _ in })
        let job = PublishJob(
            eventID: UUID(), route: MatchedOperation.match("linkedin/post")!, content: .linkedinPost(LinkedInPostContent(message: "old")),
            credentials: Credentials(accessToken: "token-\(UUID().uuidString)"), progress: [:], providerUserID: "abc")
        guard case .failed(let error) = await adapter.publish(job, session: session) else {
            Issue.record("an inactive LinkedIn-Version did not fail")
            return
        }
        #expect(error.status == 502)
        #expect(error.info.contains("202301 is not active"))
        #expect(error.info.contains("PUSHRELAY_LINKEDIN_VERSION"))
        #expect(session.takeAttempts().map(\.httpStatus) == [426])
    }
}
