import Foundation
import Logging
import PostgresNIO
import Testing
import TestSupport

@testable import RelayStore

/// The claims are planned once per connection, without their parameters' values
/// (`plan_cache_mode = force_generic_plan`, set by `DatabaseSettings.clientConfiguration`), and run
/// at every wake-up of every worker: their plans must find rows by index whatever the tables hold.
/// Written as plain joins, the job claim's plan read all of `events` at every call; written with an OR,
/// the callback claim read all of `callbacks`. Both grew with every event ever accepted. Planned on a new
/// database (small tables, never analyzed), both read their whole table at every call as it grew, until an
/// autoanalyze replaced the plan. The engine's group-committed writes (migration 0011) are checked the same way.
@Suite struct ClaimPlanTests {
    /// A migrated database holding what a relay that has worked through a burst holds: thousands of
    /// finished jobs and delivered callbacks, analysed while they were still due.
    static let busy: Task<PostgresClient, any Error> = Task {
        try await database(holding: [
            """
            INSERT INTO identities (identity_token, provider, provider_user_id)
            SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'twitter', 'user-' || n FROM generate_series(1, 500) AS n
            """,
            """
            INSERT INTO events (id, kind, source, body, identity_token, provider, path)
            SELECT ('10000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'publish.requested', 'push_api', '{}',
                   ('00000000-0000-4000-8000-' || lpad((n % 500 + 1)::text, 12, '0'))::uuid, 'twitter', 'twitter/post'
            FROM generate_series(1, 20000) AS n
            """,
            """
            INSERT INTO publish_jobs (event_id, identity_token, operation, request, state)
            SELECT id, identity_token, 'twitter/post', '{"message":"queued"}', 'queued' FROM events
            """,
            """
            INSERT INTO callbacks (event_id, url, type, payload) SELECT id, 'https://subscriber.example/hook', 'push.succeeded', '{}' FROM events
            """,
            // Statistics taken while the queue was full (as after a burst), then the queue drained: the
            // planner, which plans without the claim's limit, expects thousands of jobs and callbacks to be due.
            "ANALYZE",
            "ALTER TABLE publish_jobs SET (autovacuum_enabled = false)",
            "ALTER TABLE callbacks SET (autovacuum_enabled = false)",
            "UPDATE publish_jobs SET state = 'succeeded', finished_at = now(), attempt_count = 1",
            "UPDATE callbacks SET state = 'delivered', delivered_at = now()",
        ])
    }

    /// A migrated database as a relay finds it in its first minute: a few hundred finished jobs and
    /// delivered callbacks, never vacuumed nor analyzed (a table never vacuumed looks ten pages long to the
    /// planner). Written as `id = ANY (ARRAY(…))`, both claims were planned as sequential scans here, and a
    /// relay kept those plans as the tables grew, until an autoanalyze replaced them.
    static let new: Task<PostgresClient, any Error> = Task {
        try await database(holding: [
            "ALTER TABLE publish_jobs SET (autovacuum_enabled = false)",
            "ALTER TABLE callbacks SET (autovacuum_enabled = false)",
            "ALTER TABLE events SET (autovacuum_enabled = false)",
            "INSERT INTO identities (identity_token, provider, provider_user_id) VALUES ('00000000-0000-4000-8000-000000000001', 'twitter', 'user-1')",
            """
            INSERT INTO events (id, kind, source, body, identity_token, provider, path)
            SELECT ('10000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid, 'publish.requested', 'push_api', '{}',
                   '00000000-0000-4000-8000-000000000001', 'twitter', 'twitter/post'
            FROM generate_series(1, 200) AS n
            """,
            """
            INSERT INTO publish_jobs (event_id, identity_token, operation, request, state, finished_at, attempt_count)
            SELECT id, identity_token, 'twitter/post', '{"message":"done"}', 'succeeded', now(), 1 FROM events
            """,
            """
            INSERT INTO callbacks (event_id, url, type, payload, state, delivered_at)
            SELECT id, 'https://subscriber.example/hook', 'push.succeeded', '{}', 'delivered', now() FROM events
            """,
        ])
    }

    /// A migrated database of its own holding what `statements` write, and a client over it.
    static func database(holding statements: [PostgresQuery]) async throws -> PostgresClient {
        let logger = TestEnvironment.makeLogger()
        let settings = try await TestDatabase.create(logger: logger)
        let client = PostgresClient(configuration: settings.clientConfiguration(maximumConnections: 2))
        Task { await client.run() }
        try await MigrationRunner(client: client, logger: logger).migrate()
        for statement in statements { try await client.query(statement, logger: logger).drain() }
        return client
    }

    /// The plan PostgreSQL uses for `sql` on a relay connection to `database`, run with `arguments`.
    func plan(_ sql: String, arguments: String, in database: Task<PostgresClient, any Error> = busy) async throws -> String {
        let client = try await database.value
        return try await client.withConnection { connection in
            let name = "plan_\(UUID().uuidString.prefix(8).lowercased())"
            try await connection.query(PostgresQuery(unsafeSQL: "PREPARE \(name) AS \(sql)"), logger: Logger(label: "test")).drain()
            var lines: [String] = []
            let rows = try await connection.query(PostgresQuery(unsafeSQL: "EXPLAIN EXECUTE \(name)(\(arguments))"), logger: Logger(label: "test"))
            for try await line in rows.decode(String.self) { lines.append(line) }
            try await connection.query(PostgresQuery(unsafeSQL: "DEALLOCATE \(name)"), logger: Logger(label: "test")).drain()
            return lines.joined(separator: "\n")
        }
    }

    /// The tables that grow with use (the empty ones, `provider_pauses` say, may be scanned: that costs nothing).
    static let growing = ["events", "publish_jobs", "callbacks", "identities"]

    @Test func theJobClaimReadsNoGrowingTableWhole() async throws {
        let plan = try await plan(JobQueue.ClaimJobs.sql, arguments: "32, 'host:1:abc', 45")
        for table in Self.growing { #expect(!plan.contains("Seq Scan on \(table) "), "\(plan)") }
    }

    @Test func theCallbackClaimReadsNoGrowingTableWhole() async throws {
        let plan = try await plan(CallbackQueue.ClaimCallbacks.sql, arguments: "32, 32, 32, 'callbacks:host:1:abc', 60")
        for table in Self.growing { #expect(!plan.contains("Seq Scan on \(table) "), "\(plan)") }
    }

    @Test func theJobClaimPlannedOnANewDatabaseReadsNoGrowingTableWhole() async throws {
        let plan = try await plan(JobQueue.ClaimJobs.sql, arguments: "32, 'host:1:abc', 45", in: Self.new)
        for table in Self.growing { #expect(!plan.contains("Seq Scan on \(table) "), "\(plan)") }
    }

    @Test func theCallbackClaimPlannedOnANewDatabaseReadsNoGrowingTableWhole() async throws {
        let plan = try await plan(CallbackQueue.ClaimCallbacks.sql, arguments: "32, 32, 32, 'callbacks:host:1:abc', 60", in: Self.new)
        for table in Self.growing { #expect(!plan.contains("Seq Scan on \(table) "), "\(plan)") }
    }

    /// The statement with which a procedure writes its batch, from the body the migrated database holds (so
    /// whichever migration last replaced it), as a statement of its own: its comments (which may hold a
    /// semicolon) and its `INTO` dropped, its arguments as parameters (`$1` the batch, `$2` the second
    /// argument, `$3…` the lease's).
    static func batchStatement(of procedure: String) async throws -> String {
        let client = try await busy.value
        let rows = try await client.query("SELECT prosrc FROM pg_proc WHERE proname = \(procedure)", logger: Logger(label: "test"))
        guard let source = try await rows.decode(String.self).first(where: { _ in true }) else {
            throw TestSetupError("no procedure \(procedure)")
        }
        let text = source.replacingOccurrences(of: "--[^\n]*", with: "", options: .regularExpression)
        guard let start = text.range(of: "    WITH "), let end = text.range(of: ";", range: start.lowerBound..<text.endIndex) else {
            throw TestSetupError("no batch statement in \(procedure)")
        }
        var statement = String(text[start.lowerBound..<end.lowerBound])
        statement = statement.replacingOccurrences(of: #"\s+INTO [a-z_, ]+(?=\s+FROM|$)"#, with: "", options: .regularExpression)
        let arguments = [
            ("p_batch", "$1"), ("p_events", "$1"), ("p_channel", "$2"), ("p_owner", "$2"),
            ("p_lease_owner", "$3::text"), ("p_lease_seconds", "$4::float8"), ("p_lease_limit", "$5::integer"),
        ]
        for (argument, parameter) in arguments {
            statement = statement.replacingOccurrences(of: argument, with: parameter)
        }
        return statement
    }

    /// The group commits of the engine find their rows by key: with a `state = 'running'` condition, the
    /// planner intersected the batch's keys with the whole `publish_jobs_lease_idx`, whose entries of finished
    /// jobs stay until a vacuum (15000 read for a batch of 6 in the benchmark).
    @Test(arguments: [("finish_tries", "'[]', 'pushrelay'"), ("mark_publishing_batch", "'{}', 'host:1:abc'"), ("record_callback_deliveries", "'[]'")])
    func theEngineBatchesReadNoGrowingTableNorTheLeaseIndex(procedure: String, arguments: String) async throws {
        let plan = try await plan(try await Self.batchStatement(of: procedure), arguments: arguments)
        #expect(!plan.contains("publish_jobs_lease_idx"), "\(plan)")
        for table in Self.growing { #expect(!plan.contains("Seq Scan on \(table) "), "\(plan)") }
    }

    /// The intake's group commit checks each request's identity. Its input is a function's rows, which the
    /// planner takes for a hundred: with a few hundred to a few thousand identities, a join on them was
    /// planned as a hash of the whole `identities` table, read at every batch (migration 0013).
    @Test func theIntakeBatchReadsNoGrowingTableWhole() async throws {
        let statement = try await Self.batchStatement(of: "enqueue_publishes")
        for arguments in ["'[]', 'pushrelay', NULL, 0, 0", "'[]', 'pushrelay', 'host:1:abc', 45, 32"] {
            for database in [Self.busy, Self.new] {
                let plan = try await plan(statement, arguments: arguments, in: database)
                for table in Self.growing { #expect(!plan.contains("Seq Scan on \(table) "), "\(plan)") }
            }
        }
    }
}
