import Foundation
import Testing
import TestSupport

@Suite struct HealthTests {
    @Test func healthAndReadiness() async throws {
        let env = try await TestEnvironment.shared.value
        let health = try await env.send(.GET, "/healthz", authenticated: false)
        #expect(health.status == 200)
        #expect(health.data?["status"] == "ok")
        let ready = try await env.send(.GET, "/readyz", authenticated: false)
        #expect(ready.status == 200)
        #expect(ready.data?["status"] == "ready")
    }
}

/// HEAD is answered on every GET route with the GET's status and headers and no body.
@Suite struct HeadRequestTests {
    @Test func headMirrorsGet() async throws {
        let env = try await TestEnvironment.shared.value
        for path in ["/healthz", "/readyz"] {
            let get = try await env.send(.GET, path, authenticated: false)
            let head = try await env.send(.HEAD, path, authenticated: false)
            #expect(head.status == 200, "\(path)")
            #expect(head.text.isEmpty, "\(path)")
            #expect(head.headers.first(name: "content-length") == get.headers.first(name: "content-length"), "\(path)")
            #expect(head.headers.first(name: "content-type")?.hasPrefix("application/json") == true, "\(path)")
        }

        let identity = try await env.connectIdentity()
        let identityPath = "/identities/\(identity.token).json"
        #expect(try await env.send(.HEAD, identityPath).status == 200)
        #expect(try await env.send(.HEAD, identityPath, authenticated: false).status == 401)
        // A token nobody connected (the last two characters replaced by "00" was the same token when they were "00").
        #expect(try await env.send(.HEAD, "/identities/\(UUID().uuidString.lowercased()).json").status == 404)
        // A route that takes no GET still refuses HEAD.
        #expect(try await env.send(.HEAD, "/push/identities/\(identity.token)/twitter/post.json").status == 405)
    }
}
