import Foundation
import ProviderSandbox
import RelayCore
import Testing
import TestSupport

/// The Pinterest routes through the real server, a real PostgreSQL and the sandbox (providers.md §3).
@Suite struct PinterestRouteTests {
    /// Creates a board through the relay and returns its id.
    func createBoard(_ env: TestEnvironment, _ identity: TestIdentity, name: String = "Holidays") async throws -> String {
        let reply = try await env.push(
            identity, "pinterest/board", #"{"request":{"push":{"board":{"name":"\#(name)","description":"Trips we loved","privacy":"secret"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        return try #require(reply.data?["board_id"]?.stringValue)
    }

    @Test func boardIsCreatedWithItsLocation() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "pinterest")
        let reply = try await env.push(
            identity, "pinterest/board", #"{"request":{"push":{"board":{"name":"Summer Trips 2026","description":"","privacy":""}}}}"#)
        #expect(reply.status == 200)
        let data = try #require(reply.data)
        #expect(data["provider"] == "pinterest")
        #expect(data["object"] == "board")
        let boardID = try #require(data["board_id"]?.stringValue)
        #expect(data["board_location"]?.stringValue?.hasSuffix("/summer-trips-2026/") == true)

        let sent = try #require(env.sandbox.recorder.requests(provider: "pinterest", token: identity.accessToken).first)
        #expect(sent.method == "POST")
        #expect(sent.path == "/v5/boards")
        #expect(sent.header("authorization") == "Bearer \(identity.accessToken)")
        #expect(sent.body == ["name": "Summer Trips 2026", "privacy": "PUBLIC"])
        try await env.expectStored(reply, route: "pinterest/board", steps: ["boards.create"])
        #expect(!boardID.isEmpty)
    }

    @Test func pinOnABoardByPath() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "pinterest")
        let board = try await createBoard(env, identity)
        let image = env.sandbox.mediaURL("offices.jpg")
        let reply = try await env.push(
            identity, "pinterest/board/\(board)/pin",
            #"{"request":{"push":{"pin":{"description":"User Integration Platform","picture":"\#(image)","link":"https://www.oneall.com/","title":""}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let data = try #require(reply.data)
        #expect(data["object"] == "pin")
        #expect(data["board_id"]?.stringValue == board)
        let pinID = try #require(data["pin_id"]?.stringValue)
        #expect(data["pin_location"]?.stringValue == "https://www.pinterest.com/pin/\(pinID)/")

        let sent = try #require(env.sandbox.recorder.requests(provider: "pinterest", token: identity.accessToken).last)
        #expect(sent.path == "/v5/pins")
        #expect(
            sent.body == [
                "board_id": .string(board), "description": "User Integration Platform", "link": "https://www.oneall.com/",
                "media_source": ["source_type": "image_url", "url": .string(image)],
            ])
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        let event = try await env.finalEvent(eventID)
        #expect(event["path"]?.stringValue == "pinterest/board/\(board)/pin")
        #expect(event["attempts"]?.arrayValue?.map { $0["step"] } == ["pins.create"])
    }

    @Test func legacyPinRouteTakesTheBoardFromTheBody() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "pinterest")
        let board = try await createBoard(env, identity, name: "Legacy")
        let reply = try await env.push(
            identity, "pinterest/pin",
            #"{"request":{"push":{"pin":{"board":\#(board),"note":"From the PHP SDK","image_url":"https://example.com/a.png","link":""}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        #expect(reply.data?["board_id"]?.stringValue == board)
        try await env.expectStored(reply, route: "pinterest/pin", steps: ["pins.create"])
        let sent = env.sandbox.recorder.requests(provider: "pinterest", token: identity.accessToken).last
        #expect(sent?.body?["description"] == "From the PHP SDK")
        #expect(sent?.body?["link"] == nil)
    }

    @Test func badPinsAre400NamingTheField() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "pinterest")
        let cases: [(String, String, String)] = [
            ("pinterest/board/123/pin", #"{"request":{"push":{"pin":{"description":"no image"}}}}"#, "request.push.pin.picture"),
            ("pinterest/board/123/pin", #"{"request":{"push":{"pin":{"picture":"https://e.com/a.jpg"}}}}"#, "request.push.pin.description"),
            ("pinterest/board/abc/pin", #"{"request":{"push":{"pin":{"picture":"https://e.com/a.jpg","description":"x"}}}}"#, "board id"),
            ("pinterest/pin", #"{"request":{"push":{"pin":{"picture":"https://e.com/a.jpg","description":"x"}}}}"#, "request.push.pin.board"),
            ("pinterest/board/1/pin", #"{"request":{"push":{"pin":{"picture":"https://e.com/a.jpg","description":"\#(String(repeating: "d", count: 801))"}}}}"#, "limit is 800"),
            ("pinterest/board", #"{"request":{"push":{"board":{"description":"no name"}}}}"#, "request.push.board.name"),
            ("pinterest/board", #"{"request":{"push":{"board":{"name":"x","privacy":"friends"}}}}"#, "request.push.board.privacy"),
        ]
        for (route, body, mention) in cases {
            let reply = try await env.push(identity, route, body)
            #expect(reply.status == 400, "\(route) \(body)")
            #expect(reply.flag == "error")
            #expect(reply.info?.contains(mention) == true, "\(reply.info ?? "")")
        }
        #expect(env.sandbox.recorder.requests(provider: "pinterest", token: identity.accessToken).isEmpty)
    }

    @Test func pinterestRefusalsComeBackWithItsMessage() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "pinterest")
        let notMine = try await env.push(
            identity, "pinterest/board/999999/pin", #"{"request":{"push":{"pin":{"picture":"https://e.com/a.jpg","description":"x"}}}}"#)
        #expect(notMine.status == 404)
        #expect(notMine.info == "Pinterest refused the request: Board not found.")

        let other = try await env.connectIdentity(provider: "pinterest")
        let board = try await createBoard(env, other, name: "Theirs")
        let forbidden = try await env.push(
            identity, "pinterest/board/\(board)/pin", #"{"request":{"push":{"pin":{"picture":"https://e.com/a.jpg","description":"x"}}}}"#)
        #expect(forbidden.status == 403)
    }

    @Test func aTwitterIdentityCannotPin() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let reply = try await env.push(identity, "pinterest/board", #"{"request":{"push":{"board":{"name":"x"}}}}"#)
        #expect(reply.status == 404)
        #expect(reply.info?.contains("connected to X, not Pinterest") == true)
    }

    @Test func rejectedPinterestTokenIsRefreshedWithBasicClientCredentials() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity(provider: "pinterest")
        env.sandbox.faults.add(SandboxFault(provider: "pinterest", pathContains: "/v5/boards", token: identity.accessToken, action: .expiredToken))
        let reply = try await env.push(identity, "pinterest/board", #"{"request":{"push":{"board":{"name":"Refreshed"}}}}"#)
        #expect(reply.status == 200, "\(reply.text)")
        let refresh = try #require(env.sandbox.recorder.requests(provider: "pinterest", token: "refresh-\(identity.accessToken)").first)
        #expect(refresh.path == "/v5/oauth/token")
        #expect(refresh.header("authorization") == "Basic " + Data("sandbox-client:sandbox-secret".utf8).base64EncodedString())
        #expect(refresh.body == ["grant_type": "refresh_token", "refresh_token": .string("refresh-\(identity.accessToken)")])
    }
}
