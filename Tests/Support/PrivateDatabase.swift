import Foundation
import Logging
import PostgresNIO
import RelayCore
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

    /// Connects a Twitter identity of `userID` with `accessToken` (an `identity.connected` webhook's
    /// effect) and returns its token.
    public func connectTwitterIdentity(userID: String, accessToken: String) async throws -> UUID {
        let identityToken = UUID()
        let connected: JSONValue = [
            "type": "identity.connected",
            "data": [
                "identity_token": .string(identityToken.uuidString), "provider": "twitter", "provider_user_id": .string(userID),
                "credentials": ["access_token": .string(accessToken)],
            ],
        ]
        _ = try await store.identities.connect(try IdentityConnection.parse(connected), rawBody: connected, webhookID: "msg_\(userID)")
        return identityToken
    }

    /// Closes the client.
    public func close() {
        running.cancel()
    }
}
