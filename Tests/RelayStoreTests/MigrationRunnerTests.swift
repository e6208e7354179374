import Testing

@testable import RelayStore

@Suite struct MigrationRunnerTests {
    @Test func splitsOnSemicolonsOutsideQuotesCommentsAndDollarBodies() {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE a (note text DEFAULT 'x;y');
            COMMENT ON TABLE a IS 'it''s; fine';
            CREATE FUNCTION f() RETURNS trigger AS $body$ BEGIN RETURN NEW; END; $body$ LANGUAGE plpgsql;
            SELECT 1
            """
        let statements = MigrationRunner.statements(sql)
        #expect(statements.count == 4)
        #expect(statements[0] == "CREATE TABLE a (note text DEFAULT 'x;y')")
        #expect(statements[1].hasSuffix("'it''s; fine'"))
        #expect(statements[2].contains("RETURN NEW; END;"))
        #expect(statements[3] == "SELECT 1")
    }

    @Test func bundledMigrationsAreNumberedInOrder() throws {
        let migrations = try MigrationRunner.bundled()
        #expect(!migrations.isEmpty)
        #expect(migrations.map(\.version) == Array(1...migrations.count))
    }
}
