import ArgumentParser
import Foundation
import RelayCore
import RelayStore

/// `pushrelay keys …`: API keys of Push API clients.
struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage the API keys Push API clients authenticate with.", subcommands: [Create.self])

    /// `pushrelay keys create`: makes a key pair and prints it once.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; prints the public key, private key and callback secret once.",
            discussion: "The private key is stored only as its SHA-256 and the callback secret only encrypted: copy them now.")

        @Option(help: "A note saying who the key is for.") var description = ""

        func run() async throws {
            let configuration = try Serve.configuration(from: ProcessInfo.processInfo.environment)
            let logger = LogSetup.bootstrap(json: configuration.logFormatJSON, level: "warning")
            let database = try await DatabaseBootstrap.open(configuration, logger: logger)
            defer { database.stopManaged() }
            let note = description
            let key = try await database.withStore(logger: logger) { store in
                try await MigrationRunner(client: store.client, logger: logger).migrate()
                return try await store.apiKeys.create(description: note)
            }
            print("""
                public key:      \(key.publicKey)
                private key:     \(key.privateKey)
                callback secret: \(key.callbackSecret)

                Use them as HTTP Basic credentials: curl -u \(key.publicKey):\(key.privateKey) …
                The private key and the callback secret are not shown again.
                """)
        }
    }
}
