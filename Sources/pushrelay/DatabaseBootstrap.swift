import Foundation
import Logging
import PostgresNIO
import RelayCore
import RelayStore

/// Finds the database and the encryption key the way every sub-command needs them.
///
/// With `DATABASE_URL` it uses that server and manages nothing; without, it starts (or reuses) the
/// private cluster under `.pushrelay/` and keeps a generated encryption key next to it.
struct DatabaseBootstrap {
    let settings: DatabaseSettings
    let cipher: CredentialCipher
    /// Set when this process started the managed cluster and so stops it on exit.
    let managed: ManagedPostgres?

    /// The database of `configuration`; a failure stops the command with its one line (`Serve.fail`).
    static func open(_ configuration: Configuration, logger: Logger) async throws -> DatabaseBootstrap {
        do { return try await connect(configuration, logger: logger) } catch { throw Serve.fail("\(error)") }
    }

    private static func connect(_ configuration: Configuration, logger: Logger) async throws -> DatabaseBootstrap {
        let directory = URL(fileURLWithPath: configuration.dataDirectory)
        if let url = configuration.databaseURL {
            guard let key = configuration.encryptionKey else {
                throw CommandError("PUSHRELAY_ENCRYPTION_KEY is required with DATABASE_URL (generate one: openssl rand -base64 32)")
            }
            let settings = try DatabaseSettings(url: url)
            try await settings.checkConnection(logger: logger)
            return DatabaseBootstrap(settings: settings, cipher: try CredentialCipher(base64Key: key), managed: nil)
        }
        let cluster = ManagedPostgres(directory: directory.appendingPathComponent("postgres"), logger: logger)
        let (settings, startedHere) = try await cluster.start()
        try await settings.createDatabaseIfNeeded(logger: logger)
        let key = try configuration.encryptionKey ?? managedEncryptionKey(in: directory)
        return DatabaseBootstrap(settings: settings, cipher: try CredentialCipher(base64Key: key), managed: startedHere ? cluster : nil)
    }

    /// `.pushrelay/encryption.key`, generated on first use (mode 0600).
    static func managedEncryptionKey(in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("encryption.key")
        if let existing = try? String(contentsOf: file, encoding: .utf8) {
            return existing.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let key = CredentialCipher.generateKey()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data((key + "\n").utf8).write(to: file)
        chmod(file.path, 0o600)
        return key
    }

    /// Runs `body` with a connected store, then closes the pool.
    func withStore<T: Sendable>(logger: Logger, _ body: @Sendable (Store) async throws -> T) async throws -> T {
        // PostgresNIO warns when the first query races the pool's start, which a one-shot command always does.
        var logger = logger
        logger.logLevel = max(logger.logLevel, .error)
        let client = PostgresClient(configuration: settings.clientConfiguration(maximumConnections: 4), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(Store(client: client, cipher: cipher, logger: logger))
        }
    }

    /// For the admin commands (`keys`, `events`): opens the database of the environment's configuration,
    /// migrates it as `serve` would, runs `body` and stops a managed cluster again.
    static func withMigratedStore<T: Sendable>(_ body: @escaping @Sendable (Store) async throws -> T) async throws -> T {
        let configuration = try Serve.configuration(from: ProcessInfo.processInfo.environment)
        let logger = LogSetup.bootstrap(json: configuration.logFormatJSON, level: "warning")
        let database = try await open(configuration, logger: logger)
        defer { database.stopManaged() }
        return try await database.withStore(logger: logger) { store in
            try await MigrationRunner(client: store.client, logger: logger).migrate()
            return try await body(store)
        }
    }

    func stopManaged() {
        managed?.stop()
    }
}

/// A failure the command reports in one line.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
