import Foundation
import Logging
import PostgresNIO
import Testing
import TestSupport

@testable import RelayStore

/// The schema as an admin sees it, on a real PostgreSQL.
@Suite struct SchemaTests {
    /// A database of its own, migrated by two runners at once (the advisory lock makes that safe).
    static let migrated: Task<(DatabaseSettings, PostgresClient), any Error> = Task {
        let logger = TestEnvironment.makeLogger()
        let settings = try await TestDatabase.create(logger: logger)
        let client = PostgresClient(configuration: settings.clientConfiguration(maximumConnections: 4))
        Task { await client.run() }
        async let first = MigrationRunner(client: client, logger: logger).migrate()
        async let second = MigrationRunner(client: client, logger: logger).migrate()
        let applied: [[Int]]
        do {
            applied = try await [first, second]
        } catch {
            throw TestSetupError("migrating failed: \(String(reflecting: error))")
        }
        guard applied.flatMap({ $0 }).sorted() == (try MigrationRunner.bundled().map(\.version)) else {
            throw TestSetupError("concurrent runners applied \(applied), expected each migration exactly once")
        }
        return (settings, client)
    }

    func strings(_ query: PostgresQuery) async throws -> [String] {
        let (_, client) = try await Self.migrated.value
        var values: [String] = []
        for try await value in try await client.query(query).decode(String.self) { values.append(value) }
        return values
    }

    @Test func migrationsAreRecordedAndCurrent() async throws {
        let (_, client) = try await Self.migrated.value
        let runner = MigrationRunner(client: client, logger: TestEnvironment.makeLogger())
        #expect(try await runner.migrate().isEmpty)
        #expect(try await runner.isCurrent())
        let versions = try await strings("SELECT version::text FROM schema_migrations ORDER BY schema_migrations.version")
        #expect(versions == (try MigrationRunner.bundled().map { String($0.version) }))
    }

    @Test func designTablesExistAndAreCommented() async throws {
        let uncommented = try await strings(
            """
            SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL
            """)
        #expect(uncommented.isEmpty, "tables and views without COMMENT ON: \(uncommented)")
        let tables = Set(try await strings("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'"))
        for table in ["identities", "identity_accounts", "api_keys", "events", "publish_jobs", "provider_attempts", "schema_migrations"] {
            #expect(tables.contains(table), "missing table \(table)")
        }
    }

    @Test func timestampsAreTimestamptz() async throws {
        let naive = try await strings(
            """
            SELECT table_name || '.' || column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'
            """)
        #expect(naive.isEmpty, "\(naive)")
    }

    @Test func credentialsAreOnlyCiphertext() async throws {
        let columns = try await strings(
            """
            SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns
            WHERE table_schema = 'public' AND (column_name LIKE '%token%' OR column_name LIKE '%secret%' OR column_name = 'credentials')
              AND column_name NOT LIKE '%key_id' AND column_name NOT IN ('identity_token', 'user_token', 'token_expires_at')
              AND table_name IN (SELECT tablename FROM pg_tables WHERE schemaname = 'public')
            """)
        #expect(!columns.isEmpty)
        #expect(columns.allSatisfy { $0.hasSuffix(":bytea") }, "secret columns that are not ciphertext: \(columns)")
    }

    @Test func statesAreConstrained() async throws {
        let (_, client) = try await Self.migrated.value
        await #expect(throws: (any Error).self) {
            try await client.query(
                "INSERT INTO identities (identity_token, provider, provider_user_id, state) VALUES (gen_random_uuid(), 'twitter', 'x', 'sleepy')")
        }
        await #expect(throws: (any Error).self) {
            try await client.query(
                "INSERT INTO identities (identity_token, provider, provider_user_id) VALUES (gen_random_uuid(), 'myspace', 'x')")
        }
    }
}
