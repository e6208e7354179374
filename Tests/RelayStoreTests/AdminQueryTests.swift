import Foundation
import PostgresNIO
import Testing
import TestSupport

@testable import RelayStore

/// The worked admin queries of `sql/admin/` (DESIGN §8), run against the schema they are written for. Serialized:
/// the purge run by the first test (rolled back) would hold the rows the second one purges.
@Suite(.serialized) struct AdminQueryTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../sql/admin").standardized

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// Every file runs (in a transaction rolled back, so that the ones that write leave nothing) and opens
    /// with the comment saying which question it answers.
    @Test func everyAdminQueryRuns() async throws {
        let (_, client) = try await SchemaTests.migrated.value
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".sql") }.sorted()
        #expect(files.count >= 6, "\(files)")
        for file in files {
            let sql = try Self.text(file)
            #expect(sql.hasPrefix("-- "), "\(file) opens with the question it answers")
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: TestEnvironment.makeLogger())
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.makeLogger()).drain()
                } catch {
                    Issue.record("\(file): \(String(reflecting: error))")
                }
                try await connection.query("ROLLBACK", logger: TestEnvironment.makeLogger())
            }
        }
    }

    /// The purge deletes old events whose work is over, with everything that hangs from them, and keeps what
    /// is recent or still under way.
    @Test func thePurgeKeepsWhatIsUnderWay() async throws {
        let (_, client) = try await SchemaTests.migrated.value
        let identity = UUID()
        let (done, waiting, calling, recent, identityEvent) = (UUID(), UUID(), UUID(), UUID(), UUID())
        let old = "now() - interval '100 days'"
        let statements: [String] = [
            "INSERT INTO identities (identity_token, provider, provider_user_id) VALUES ('\(identity)', 'twitter', 'purge-\(identity)')",
            "INSERT INTO events (id, kind, source, body, received_at) VALUES ('\(identityEvent)', 'identity.connected', 'webhook', '{}', \(old))",
        ]
            + [(done, old, "succeeded"), (waiting, old, "queued"), (calling, old, "failed"), (recent, "now()", "succeeded")].flatMap {
                id, received, state in
                [
                    "INSERT INTO events (id, kind, source, identity_token, body, received_at) VALUES ('\(id)', 'publish.requested', 'push_api', '\(identity)', '{}', \(received))",
                    """
                    INSERT INTO publish_jobs (event_id, identity_token, operation, request, state, finished_at)
                    VALUES ('\(id)', '\(identity)', 'twitter/post', '{}', '\(state)', \(state == "queued" ? "NULL" : "now()"))
                    """,
                    """
                    INSERT INTO provider_attempts (event_id, try_number, step, method, url, outcome, started_at, duration_ms)
                    VALUES ('\(id)', 1, 'tweets.create', 'POST', 'https://api.x.com/2/tweets', 'succeeded', now(), 1)
                    """,
                    """
                    INSERT INTO callbacks (id, event_id, url, type, payload, state)
                    VALUES ('\(UUID())', '\(id)', 'https://hooks.example.com/', 'push.succeeded', '{}', '\(id == calling ? "pending" : "delivered")')
                    """,
                    """
                    INSERT INTO callback_attempts (callback_id, attempt, started_at, duration_ms)
                    SELECT id, 1, now(), 1 FROM callbacks WHERE event_id = '\(id)'
                    """,
                ]
            }
        for statement in statements { try await client.query(PostgresQuery(unsafeSQL: statement)) }

        var counts: [Int] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: try Self.text("purge_finished_events.sql"))).decode((Int, Int, Int, Int, Int).self) {
            counts = [row.0, row.1, row.2, row.3, row.4]
        }
        // The identity event and the finished publish (its job, its call, its callback and that callback's try).
        #expect(counts == [2, 1, 1, 1, 1])
        var left: [String] = []
        let ids = [done, waiting, calling, recent, identityEvent].map { "'\($0)'" }.joined(separator: ", ")
        for try await id in try await client.query(PostgresQuery(unsafeSQL: "SELECT id::text FROM events WHERE id IN (\(ids)) ORDER BY id")).decode(String.self) {
            left.append(id)
        }
        #expect(Set(left) == Set([waiting, calling, recent].map { $0.uuidString.lowercased() }), "\(left)")
    }
}
