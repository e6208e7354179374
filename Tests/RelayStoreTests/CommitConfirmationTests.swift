import Foundation
import Logging
import PostgresNIO
import Testing
import TestSupport

@testable import RelayStore

/// `Store.write` answers only for writes that committed.
///
/// A statement outside a transaction commits at the Sync after its CommandComplete, and PostgresNIO
/// ends the statement at CommandComplete. A failure of the commit itself then reaches nobody. A
/// deferred foreign key fails exactly there, so it stands in for the other failures at that point
/// (a fast shutdown terminating the backend during the commit, which the PostgreSQL-restart test of
/// `ProcessFailureTests` met as an acknowledged event that was not in the database).
@Suite struct CommitConfirmationTests {
    /// A database with a table whose foreign key is checked only at commit.
    static let settings: Task<DatabaseSettings, any Error> = Task {
        try await TestDatabase.create(logger: TestEnvironment.makeLogger())
    }

    static let database: Task<(PostgresClient, Store), any Error> = Task {
        let logger = TestEnvironment.makeLogger()
        let settings = try await Self.settings.value
        let client = PostgresClient(configuration: settings.clientConfiguration(maximumConnections: 4))
        Task { await client.run() }
        try await client.query(
            """
            CREATE TABLE deferred_children (
                id int PRIMARY KEY,
                parent int REFERENCES deferred_children (id) DEFERRABLE INITIALLY DEFERRED)
            """
        ).drain()
        try await client.query(
            """
            CREATE PROCEDURE insert_deferred_child(p_id bigint, p_parent bigint, INOUT inserted boolean DEFAULT NULL)
            LANGUAGE plpgsql AS $$ BEGIN INSERT INTO deferred_children VALUES (p_id, p_parent); inserted := true; COMMIT; END $$
            """
        ).drain()
        let store = Store(client: client, cipher: try CredentialCipher(base64Key: CredentialCipher.generateKey()), logger: logger)
        return (client, store)
    }

    func rowCount(_ id: Int, client: PostgresClient) async throws -> Int {
        for try await count in try await client.query("SELECT count(*)::int FROM deferred_children WHERE id = \(id)").decode(Int.self) {
            return count
        }
        return 0
    }

    /// Why `Store.write` exists: if this starts failing, PostgresNIO reports commit failures itself and
    /// the confirming round trip of `Store.write` can go.
    @Test func postgresNIOReportsAnAutocommitStatementDoneBeforeItsCommit() async throws {
        let (shared, _) = try await Self.database.value
        // A client of its own: the connection this leaves broken must not be lent to the other tests.
        let client = PostgresClient(configuration: try await Self.settings.value.clientConfiguration(maximumConnections: 1))
        let running = Task { await client.run() }
        defer { running.cancel() }
        var returned: [Int] = []
        for try await id in try await client.query("INSERT INTO deferred_children VALUES (1, 999) RETURNING id").decode(Int.self) {
            returned.append(id)
        }
        #expect(returned == [1], "the statement looked successful")
        #expect(try await rowCount(1, client: shared) == 0, "but its commit failed")
    }

    @Test func aWriteWhoseCommitFailsThrows() async throws {
        let (client, store) = try await Self.database.value
        let error = await #expect(throws: PSQLError.self) {
            try await store.write("INSERT INTO deferred_children VALUES (2, 999) RETURNING id", logger: store.logger)
        }
        #expect(error?.serverInfo?[.sqlState] == "23503", "the foreign key violation of the COMMIT: \(String(reflecting: error))")
        #expect(try await rowCount(2, client: client) == 0)
    }

    @Test func aWriteThatCommitsReturnsItsRows() async throws {
        let (client, store) = try await Self.database.value
        let rows = try await store.write(
            "INSERT INTO deferred_children VALUES (3, NULL), (4, 3) RETURNING id, parent", logger: store.logger)
        let decoded = try rows.decode((Int, Int?).self)
        #expect(decoded.map(\.0) == [3, 4])
        #expect(decoded.map(\.1) == [nil, 3])
        #expect(try await rowCount(4, client: client) == 1)
    }

    /// A failed commit is an ordinary statement error: the connection and the pool go on serving.
    @Test func thePoolRecoversAfterAFailedCommit() async throws {
        let (client, store) = try await Self.database.value
        for id in 10..<14 {
            await #expect(throws: (any Error).self) {
                try await store.write("INSERT INTO deferred_children VALUES (\(id), 999)", logger: store.logger)
            }
        }
        try await store.write("INSERT INTO deferred_children VALUES (20, NULL)", logger: store.logger)
        #expect(try await rowCount(20, client: client) == 1)
    }

    /// `Store.call`: a procedure that commits inside answers only after its commit, and a failed commit is its error.
    @Test func aProcedureThatCommitsInsideReportsItsCommit() async throws {
        let (client, store) = try await Self.database.value
        let error = await #expect(throws: PSQLError.self) {
            try await store.call("CALL insert_deferred_child(\(30), \(999), NULL)", logger: store.logger)
        }
        #expect(error?.serverInfo?[.sqlState] == "23503")
        #expect(try await rowCount(30, client: client) == 0)
        let rows = try await store.call("CALL insert_deferred_child(\(31), \(Optional<Int>.none)::bigint, NULL)", logger: store.logger)
        #expect(try rows.decode(Bool.self) == [true])
        #expect(try await rowCount(31, client: client) == 1)
    }
}
