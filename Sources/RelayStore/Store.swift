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

    /// How long one statement or transaction may take, waiting for a pool connection included.
    ///
    /// Under a PostgreSQL restart a few waits for a pool connection were seen never to be served
    /// (PostgresNIO 1.33): without a bound, such a request hangs, and so does a graceful shutdown
    /// waiting for it. Past the deadline the wait is cancelled (which withdraws it from the pool) and
    /// `DatabaseTimeout` is thrown, which the HTTP layer answers with a 503 and workers retry.
    public static let deadline: Duration = .seconds(30)

    /// Runs one statement that only reads (`client.query` with the deadline). Statements that change
    /// data go through `write(_:logger:)`: PostgresNIO reports a statement done before its commit.
    public func query(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws
        -> PostgresRowSequence
    {
        let client = self.client
        return try await Self.withDeadline { try await client.query(query, logger: logger, file: file, line: line) }
    }

    /// Runs one statement that changes data in a transaction of its own, returning its rows once the
    /// commit is confirmed.
    ///
    /// A statement sent alone commits when PostgreSQL processes the Sync that follows it, after it has
    /// sent CommandComplete, and PostgresNIO (1.33) ends the statement at CommandComplete: an error of
    /// the commit itself (a fast shutdown terminating the backend, a deferred constraint) arrives after
    /// that and reaches nobody, so `client.query` "succeeds" for a write that was rolled back. An
    /// explicit COMMIT is different: PostgreSQL commits before it answers the COMMIT statement, so its
    /// failure is that statement's error. That costs two round trips (BEGIN, COMMIT); a trivial
    /// statement after the write would cost one, but PostgresNIO writes it to the connection it has just
    /// closed over the commit error, and it is never answered.
    @discardableResult
    public func write(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws
        -> [PostgresRow]
    {
        try await transaction { try await $0.query(query, logger: logger, file: file, line: line).collect() }
    }

    /// `write(_:logger:)` for a statement of the hot path, prepared once per connection as `Key`.
    @discardableResult
    func write<Key: PreparedStatementKey>(
        _ query: PostgresQuery, preparedAs key: Key.Type, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> [PostgresRow] {
        let statement = PreparedQuery<Key>(query)
        return try await transaction { try await $0.execute(statement, logger: logger, file: file, line: line).collect() }
    }

    /// CALLs a procedure that commits inside (migration 0006): a confirmed write in one round trip, since
    /// PostgreSQL answers the CALL only after the procedure's COMMIT and a failed commit is the CALL's error.
    /// Must not run inside a transaction (`transaction(_:)`): a COMMIT inside is refused there.
    @discardableResult
    public func call(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        try await writeUnconfirmed(query, logger: logger, file: file, line: line)
    }

    /// Runs a statement that changes data on its own, without confirming its commit: one round trip
    /// instead of three. Only for a write whose loss is harmless: the claims (the confirmed mark before
    /// any publishing call finds no lease when a claim was lost, and stops the call; a lost callback claim
    /// means one more delivery with the same `webhook-id`). `call(_:logger:)` runs a procedure this way,
    /// because the procedure confirms its own commit.
    @discardableResult
    func writeUnconfirmed(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws -> [PostgresRow] {
        let client = self.client
        return try await Self.withDeadline { try await client.query(query, logger: logger, file: file, line: line).collect() }
    }

    /// `writeUnconfirmed(_:logger:)` for a statement of the hot path, prepared once per connection as `Key`.
    func writeUnconfirmed<Key: PreparedStatementKey>(
        _ query: PostgresQuery, preparedAs key: Key.Type, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> [PostgresRow] {
        let client = self.client
        let statement = PreparedQuery<Key>(query)
        return try await Self.withDeadline { try await client.execute(statement, logger: logger, file: file, line: line).collect() }
    }

    /// Runs `body` in a transaction, within the deadline; an error thrown by `body` (a `RelayError`, say)
    /// comes out as itself, not wrapped in PostgresNIO's `PostgresTransactionError`.
    public func transaction<Result: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> Result) async throws -> Result {
        let client = self.client
        let logger = self.logger
        do {
            return try await Self.withDeadline {
                try await client.withTransaction(logger: logger) { connection in try await body(connection) }
            }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Runs `operation`, throwing `DatabaseTimeout` once `deadline` has passed.
    ///
    /// Not a task group: a group waits for all its children, and the calls this guards against do not
    /// answer cancellation (a query written to a connection that had just closed). The operation runs
    /// in its own task, cancelled and left behind at the deadline (`DeadlineWatchdog`).
    static func withDeadline<T: Sendable>(
        _ deadline: Duration = Store.deadline, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let race = DeadlineRace<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.start(continuation) {
                    Task {
                        do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
                    }
                }
                race.watched(
                    by: DeadlineWatchdog.shared.register(deadline: .now + deadline) {
                        race.finish(.failure(DatabaseTimeout(deadline: deadline)))
                    })
            }
        } onCancel: {
            race.cancel()
        }
    }

    /// True when a trivial query succeeds.
    public func isReachable() async -> Bool {
        do {
            let rows = try await query("SELECT 1", logger: logger)
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

extension AsyncSequence {
    /// Every element, read before the statement's connection goes back to the pool.
    func collect() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self { elements.append(element) }
        return elements
    }
}

extension Array where Element == PostgresRow {
    /// Decodes every row as `columns` (the rows of `Store.write`, which are read before they are returned).
    func decode<each Column: PostgresDecodable>(
        _ columns: (repeat each Column).Type, file: String = #fileID, line: Int = #line
    ) throws -> [(repeat each Column)] {
        try map { try $0.decode(columns, file: file, line: line) }
    }
}
