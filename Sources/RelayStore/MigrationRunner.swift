import Foundation
import Logging
import PostgresNIO

/// Applies `sql/migrations/NNNN_name.sql` in order, each in its own transaction, once.
///
/// Applied migrations are recorded in `schema_migrations`. A transaction-level advisory lock makes
/// concurrent starts of several `serve` processes safe: one applies, the others wait and find nothing to do.
public struct MigrationRunner: Sendable {
    /// A migration file: its version (the number prefix), name, and SQL.
    public struct Migration: Sendable {
        public let version: Int
        public let name: String
        public let sql: String
    }

    /// An arbitrary constant: the advisory lock key all PushRelay processes agree on.
    static let lockKey: Int64 = 0x7075_7368_7265_6C79

    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// The migrations shipped with this build, in order.
    public static func bundled() throws -> [Migration] {
        guard let directory = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            throw DatabaseError("the migrations are missing from this build (RelayStore resources)")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        return try files.sorted().map { file in
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw DatabaseError("migration file \(file) is not named NNNN_name.sql")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            return Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql)
        }
    }

    /// Applies what is missing. Returns the versions applied by this call.
    @discardableResult
    public func migrate() async throws -> [Int] {
        let migrations = try Self.bundled()
        // Under the lock too: two concurrent `CREATE TABLE IF NOT EXISTS` can both try to create it.
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            try await connection.query(
                """
                COMMENT ON TABLE schema_migrations IS 'The migrations of sql/migrations applied to this database, by number (pushrelay migrate, and serve at start).'
                """, logger: logger)
        }
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await client.withTransaction(logger: logger) { connection -> Bool in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.lockKey))", logger: logger)
                let rows = try await connection.query(
                    "SELECT 1 FROM schema_migrations WHERE version = \(migration.version)", logger: logger)
                for try await _ in rows { return false }
                for statement in Self.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))",
                    logger: logger)
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        return applied
    }

    /// Splits a migration into statements (the extended protocol takes one at a time): on `;` outside
    /// quotes, comments and dollar-quoted bodies.
    static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var index = sql.startIndex
        var dollarTag: Substring?
        while index < sql.endIndex {
            let rest = sql[index...]
            if let tag = dollarTag {
                if rest.hasPrefix(tag) {
                    current += tag
                    index = sql.index(index, offsetBy: tag.count)
                    dollarTag = nil
                } else {
                    current.append(sql[index])
                    index = sql.index(after: index)
                }
                continue
            }
            let character = sql[index]
            if rest.hasPrefix("--") {
                let end = rest.firstIndex(of: "\n") ?? sql.endIndex
                index = end
                continue
            }
            if character == "'" || character == "\"" {
                let close = rest.dropFirst().firstIndex(of: character) ?? sql.index(before: sql.endIndex)
                current += sql[index...close]
                index = sql.index(after: close)
                continue
            }
            if character == "$", let match = rest.prefixMatch(of: /\$[A-Za-z_]*\$/) {
                dollarTag = match.output
                current += match.output
                index = match.range.upperBound
                continue
            }
            if character == ";" {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            } else {
                current.append(character)
            }
            index = sql.index(after: index)
        }
        let last = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !last.isEmpty { statements.append(last) }
        return statements
    }

    /// True when every bundled migration is applied (`/readyz`).
    public func isCurrent() async throws -> Bool {
        let expected = try Self.bundled().map(\.version).max() ?? 0
        let rows = try await client.query("SELECT coalesce(max(version), 0) FROM schema_migrations", logger: logger)
        for try await current in rows.decode(Int.self) { return current >= expected }
        return false
    }
}
