import ArgumentParser
import Foundation
import RelayCore
import RelayStore

/// `pushrelay migrate`: applies the database migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database migrations (serve also does this at start).")

    func run() async throws {
        let configuration = try Serve.configuration(from: ProcessInfo.processInfo.environment)
        let logger = LogSetup.bootstrap(json: configuration.logFormatJSON, level: configuration.logLevel)
        let database = try await DatabaseBootstrap.open(configuration, logger: logger)
        defer { database.stopManaged() }
        let applied = try await database.withStore(logger: logger) { store in
            try await MigrationRunner(client: store.client, logger: logger).migrate()
        }
        print(applied.isEmpty ? "The database is up to date." : "Applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}
