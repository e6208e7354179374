import Foundation
import Logging
import PostgresNIO
import RelayStore

/// A migrated database of one test's own, with a client and a store over it: for tests whose publish
/// worker claims every job it finds, or that lock tables, and must not touch the other tests' queue.
public struct PrivateDatabase: Sendable {
    public let settings: DatabaseSettings
    public let client: PostgresClient
    public let store: Store
    let running: Task<Void, Never>

    /// Creates the database, runs the migrations, and opens a client of `connections` connections.
    public static func create(connections: Int = 4, logger: Logger) async throws -> PrivateDatabase {
        let settings = try await TestDatabase.create(logger: logger)
        let client = PostgresClient(configuration: settings.clientConfiguration(maximumConnections: connections))
        let running = Task { await client.run() }
        try await MigrationRunner(client: client, logger: logger).migrate()
        let store = Store(client: client, cipher: try CredentialCipher(base64Key: CredentialCipher.generateKey()), logger: logger)
        return PrivateDatabase(settings: settings, client: client, store: store, running: running)
    }

    /// Closes the client.
    public func close() {
        running.cancel()
    }
}
