import Logging
import PostgresNIO

extension PostgresConnection {
    /// Runs a statement whose rows, if any, do not matter (a test's `BEGIN`, its locks, its `COMMIT`).
    public func run(_ statement: PostgresQuery, logger: Logger) async throws {
        for try await _ in try await query(statement, logger: logger) {}
    }
}
