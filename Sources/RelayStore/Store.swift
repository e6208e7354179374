import Logging
import PostgresNIO
import RelayCore

/// The PostgreSQL side of PushRelay: one connection pool and the key that encrypts credentials.
///
/// The repositories are thin views over it, so a handler or worker asks `store.identities`
/// or `store.jobs` and never writes SQL itself.
public struct Store: Sendable {
    public let client: PostgresClient
    public let cipher: CredentialCipher
    public let logger: Logger

    /// The `NOTIFY` channel every PushRelay process listens on.
    public static let notificationChannel = "pushrelay"

    public init(client: PostgresClient, cipher: CredentialCipher, logger: Logger) {
        self.client = client
        self.cipher = cipher
        self.logger = logger
    }

    public var apiKeys: APIKeyRepository { APIKeyRepository(store: self) }
    public var identities: IdentityRepository { IdentityRepository(store: self) }
    public var events: EventRepository { EventRepository(store: self) }
    public var jobs: JobQueue { JobQueue(store: self) }
    public var subscriptions: SubscriptionRepository { SubscriptionRepository(store: self) }
    public var callbacks: CallbackQueue { CallbackQueue(store: self) }

    /// Runs `body` in a transaction; an error thrown by `body` (a `RelayError`, say) comes out as itself,
    /// not wrapped in PostgresNIO's `PostgresTransactionError`.
    public func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// True when a trivial query succeeds.
    public func isReachable() async -> Bool {
        do {
            let rows = try await client.query("SELECT 1", logger: logger)
            for try await _ in rows {}
            return true
        } catch {
            return false
        }
    }
}

extension PostgresRowSequence {
    /// Drains the sequence (for statements whose rows we do not need).
    func drain() async throws {
        for try await _ in self {}
    }
}
