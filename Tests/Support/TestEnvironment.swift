import AsyncHTTPClient
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ProviderSandbox
import RelayCore
import RelayEngine
import RelayHTTP
import RelayStore

/// One running PushRelay for the whole test process: a real PostgreSQL (the managed-cluster code of
/// `serve`, or `DATABASE_URL`), a fresh database, the provider sandbox and the relay on real sockets.
///
/// Tests run in parallel against it; each connects its own identity with its own access token,
/// and reads the sandbox recordings and scripts faults filtered by that token.
public final class TestEnvironment: Sendable {
    public let baseURL: String
    public let sandbox: ProviderSandbox
    public let store: Store
    public let database: DatabaseSettings
    public let apiKey: (publicKey: String, privateKey: String)
    public let webhookSecret: String
    /// The callback secret of the test API key: signs callbacks to a request's `callback_url`.
    public let callbackSecret: String
    public let http: HTTPClient
    public let logger: Logger

    public static let shared: Task<TestEnvironment, any Error> = Task { try await TestEnvironment.start() }

    init(
        baseURL: String, sandbox: ProviderSandbox, store: Store, database: DatabaseSettings,
        apiKey: (publicKey: String, privateKey: String), webhookSecret: String, callbackSecret: String, logger: Logger
    ) {
        self.baseURL = baseURL
        self.sandbox = sandbox
        self.store = store
        self.database = database
        self.apiKey = apiKey
        self.webhookSecret = webhookSecret
        self.callbackSecret = callbackSecret
        // Tests run in parallel and long-poll: more connections to the relay than the default 8.
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.logger = logger
    }

    static func start() async throws -> TestEnvironment {
        let logger = makeLogger()
        let database = try await TestDatabase.create(logger: logger)
        let sandbox = ProviderSandbox(logger: logger)
        _ = try await sandbox.start()

        var configuration = Configuration()
        configuration.port = 0
        configuration.workers = 8
        configuration.mediaAllowPrivate = true
        configuration.publishMaxAttempts = 3
        // Generous: CI machines are slow and tests run in parallel; the timeout path has its own test.
        configuration.syncTimeout = .seconds(30)
        configuration.pollInterval = .milliseconds(500)
        configuration.rescueInterval = .milliseconds(200)
        let apiKey = (publicKey: "test-\(UUID().uuidString.prefix(8).lowercased())", privateKey: UUID().uuidString.lowercased())
        configuration.apiKey = apiKey
        let webhookSecret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        let callbackSecret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        configuration.callbackRetrySchedule = [0, 1, 1]
        configuration.webhookSecrets = [webhookSecret]
        sandbox.configure(&configuration)
        let cipher = try CredentialCipher(base64Key: CredentialCipher.generateKey())

        let (stream, continuation) = AsyncStream<RelayServer.Ready>.makeStream()
        let finalConfiguration = configuration
        Task {
            do {
                try await RelayServer.run(
                    configuration: finalConfiguration, database: database, cipher: cipher, logger: logger,
                    prepare: { store in
                        _ = try await store.apiKeys.ensure(publicKey: apiKey.publicKey, privateKey: apiKey.privateKey, callbackSecret: callbackSecret)
                    },
                    onReady: { continuation.yield($0); continuation.finish() })
            } catch {
                FileHandle.standardError.write(Data("test relay stopped: \(error)\n".utf8))
                continuation.finish()
            }
        }
        var ready: RelayServer.Ready?
        for await value in stream { ready = value }
        guard let ready else { throw TestSetupError("the relay did not start") }
        return TestEnvironment(
            baseURL: "http://127.0.0.1:\(ready.port)", sandbox: sandbox, store: ready.store, database: database,
            apiKey: apiKey, webhookSecret: webhookSecret, callbackSecret: callbackSecret, logger: logger)
    }

    /// Quiet unless `TEST_LOG_LEVEL` (trace … critical) asks for more.
    public static func makeLogger() -> Logger {
        var logger = Logger(label: "pushrelay-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["TEST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    /// Starts a second relay process-equivalent on the same database and sandbox, with its own configuration changes.
    /// `logger`, when given, is the relay's (a `LogRecorder`'s, to wait for what it logs).
    public func startSecondRelay(logger: Logger? = nil, _ adjust: @Sendable (inout Configuration) -> Void) async throws -> String {
        "http://127.0.0.1:\(try await startSecondRelayReady(logger: logger, adjust).port)"
    }

    /// As `startSecondRelay(_:)`, answering what the relay reports once ready (its ports).
    public func startSecondRelayReady(
        logger: Logger? = nil, _ adjust: @Sendable (inout Configuration) -> Void
    ) async throws -> RelayServer.Ready {
        var configuration = Configuration()
        configuration.port = 0
        configuration.workers = 4
        configuration.mediaAllowPrivate = true
        configuration.pollInterval = .milliseconds(500)
        configuration.webhookSecrets = [webhookSecret]
        configuration.callbackRetrySchedule = [0, 1, 1]
        sandbox.configure(&configuration)
        adjust(&configuration)
        let (stream, continuation) = AsyncStream<RelayServer.Ready>.makeStream()
        let finalConfiguration = configuration
        let database = self.database
        let cipher = store.cipher
        let logger = logger ?? self.logger
        Task {
            try? await RelayServer.run(
                configuration: finalConfiguration, database: database, cipher: cipher, logger: logger,
                onReady: { continuation.yield($0); continuation.finish() })
            continuation.finish()
        }
        var ready: RelayServer.Ready?
        for await value in stream { ready = value }
        guard let ready else { throw TestSetupError("the second relay did not start") }
        return ready
    }
}

/// A setup failure of the test environment.
public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The throwaway PostgreSQL database of a test run.
public enum TestDatabase {
    /// `DATABASE_URL` if set, else a managed cluster under the temporary directory (kept running between
    /// runs, so only the first run pays for `initdb`); either way a new database for this run.
    public static func create(logger: Logger) async throws -> DatabaseSettings {
        let server = try await Self.server.value
        let name = "pushrelay_test_\(UUID().uuidString.prefix(8).lowercased())"
        try? await dropStaleDatabases(server: server, logger: logger)
        let settings = server.with(database: name)
        try await settings.createDatabaseIfNeeded(logger: logger)
        return settings
    }

    /// The server of this test process, started once whatever the number of suites asking for a database.
    static let server: Task<DatabaseSettings, any Error> = Task {
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            return try DatabaseSettings(url: url)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-test-postgres")
        // Every relay of the run keeps its pool (12 connections or more) until the process ends: PostgreSQL's
        // default of 100 connections was reached in full runs, and a test's new connection refused.
        return try await ManagedPostgres(directory: directory, logger: TestEnvironment.makeLogger(), parameters: ["max_connections": "400"])
            .start(database: "postgres").settings
    }

    /// Drops databases of earlier test runs (older than an hour, so a parallel run is left alone).
    static func dropStaleDatabases(server: DatabaseSettings, logger: Logger) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: server.with(database: "postgres").connectionConfiguration(), id: 1, logger: logger)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(
            """
            SELECT d.datname FROM pg_database d
            WHERE d.datname LIKE 'pushrelay\\_test\\_%'
              AND (pg_stat_file('base/' || d.oid || '/PG_VERSION')).modification < now() - interval '1 hour'
            """, logger: logger)
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        for name in names {
            _ = try? await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)"), logger: logger)
        }
    }
}
