import Foundation
import RelayStore
import ServeProcess
import TestSupport
import Testing

/// What `pushrelay serve` prints at start goes to journals and container logs: an API key the operator
/// configured is named by its public part only.
@Suite struct BannerTests {
    @Test func aConfiguredAPIKeyIsPrintedWithoutItsPrivateKey() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await TestDatabase.create(logger: env.logger)
        let variables = RelayProcess.variables(for: env, database: database, encryptionKey: CredentialCipher.generateKey())
        let relay = try await RelayProcess.start(variables, name: "banner")
        defer { relay.signal(SIGTERM) }

        let printed = relay.printedLines
        #expect(printed.contains { $0.contains("API key:") && $0.contains(env.apiKey.publicKey) }, "\(printed)")
        #expect(!printed.contains { $0.contains(env.apiKey.privateKey) }, "\(printed)")
        // The key works: it was stored, not only left out of the banner.
        let reply = try await env.send(.GET, "/subscriptions.json", base: relay.baseURL)
        #expect(reply.status == 200)
    }
}
