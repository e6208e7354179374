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
