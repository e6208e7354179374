import Foundation
import Testing
import TestSupport

/// Facebook removed publishing to user profiles (2018) and groups (2024): those routes validate the
/// request, then answer 409 naming the removal, and never call Facebook (DESIGN §2).
@Suite struct FacebookRemovedRouteTests {
    @Test(arguments: [
        ("facebook/post", #"{"request":{"push":{"post":{"message":"OneAll","link":"https://www.oneall.com/","attachments":[]}}}}"#, "publish_actions"),
        ("facebook/picture", #"{"request":{"push":{"picture":{"url":"https://example.com/logo.png","description":"OneAll Logo","create_post":false}}}}"#, "publish_actions"),
        ("facebook/video", #"{"request":{"push":{"video":{"url":"https://example.com/clip.mp4","description":"Sample Video","create_post":true}}}}"#, "publish_actions"),
        ("facebook/group/post", #"{"request":{"push":{"group":{"id":"1234567890"},"post":{"message":"Hello group","link":"https://www.oneall.com/"}}}}"#, "Groups API"),
        ("facebook/group/picture", #"{"request":{"push":{"group":{"id":1234567890,"url":"https://example.com/p.jpg"}}}}"#, "Groups API"),
        ("facebook/group/video", #"{"request":{"push":{"group":{"id":"1"},"video":{"video_url":"https://example.com/v.mp4"}}}}"#, "Groups API"),
    ])
    func validRequestsAre409(route: String, body: String, mention: String) async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "facebook")
        let reply = try await env.push(identity, route, body)
        #expect(reply.status == 409, "\(reply.text)")
        #expect(reply.flag == "error")
        #expect(reply.info?.contains(mention) == true)
        #expect(env.sandbox.recorder.requests(provider: "facebook", token: identity.accessToken).isEmpty)
    }

    @Test(arguments: [
        ("facebook/post", #"{"request":{"push":{"post":{"attachments":[]}}}}"#, "request.push.post.message or request.push.post.link"),
        ("facebook/post", #"{"request":{"push":{"post":{"link":42}}}}"#, "request.push.post.link"),
        ("facebook/post", #"{"request":{"push":{"post":{"link":"https://a.com","attachments":["1"]}}}}"#, "cannot be combined"),
        ("facebook/picture", #"{"request":{"push":{"picture":{"description":"no url"}}}}"#, "request.push.picture.url"),
        ("facebook/picture", #"{"request":{"push":{"picture":{"url":"https://a.com/p.jpg","create_post":"maybe"}}}}"#, "create_post"),
        ("facebook/group/post", #"{"request":{"push":{"post":{"message":"no group"}}}}"#, "request.push.group"),
        ("facebook/group/post", #"{"request":{"push":{"group":{"message":"no id"}}}}"#, "request.push.group.id"),
    ])
    func invalidRequestsAre400First(route: String, body: String, mention: String) async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "facebook")
        let reply = try await env.push(identity, route, body)
        #expect(reply.status == 400, "\(reply.text)")
        #expect(reply.info?.contains(mention) == true, "\(reply.info ?? "")")
    }

    @Test func linkMayBeAnObjectWithAURL() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "facebook")
        let reply = try await env.push(identity, "facebook/post", #"{"request":{"push":{"post":{"link":{"url":"https://www.oneall.com/"}}}}}"#)
        #expect(reply.status == 409)
    }
}
