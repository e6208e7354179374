import PostgresNIO

/// Names a statement of the hot path (the job and callback claims) so that PostgreSQL parses and
/// plans it once per connection instead of on every run. (The other writes of the hot path are
/// procedures, whose plans PL/pgSQL keeps.)
///
/// Measured with `log_min_duration_statement = 0` under `pushrelay-bench`: parsing and planning the
/// claim cost about twice its execution. The text is the `sql` of the query the call site builds by
/// interpolation, with values that do not matter (`$1…` do not depend on them), so the statement is
/// written once. The types of `$1…` are taken from the first run's values: a statement with optional
/// values (a NULL has no type of its own) must not be run this way.
public protocol PreparedStatementKey: SendableMetatype {
    /// The statement with `$1…` in place of its values.
    static var sql: String { get }
}

/// A `PostgresQuery` run as the prepared statement `Key`: PostgresNIO prepares it on each connection
/// the first time and then only binds and executes it.
struct PreparedQuery<Key: PreparedStatementKey>: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static var name: String { "pushrelay.\(Key.self)" }
    static var sql: String { Key.sql }
    static var bindingDataTypes: [PostgresDataType] { [] }

    let query: PostgresQuery

    init(_ query: PostgresQuery) {
        assert(query.sql == Key.sql, "the query run as \(Key.self) is not its statement")
        self.query = query
    }

    func makeBindings() -> PostgresBindings { query.binds }
    func decodeRow(_ row: PostgresRow) -> PostgresRow { row }
}
