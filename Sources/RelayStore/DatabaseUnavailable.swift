import PostgresNIO

/// Tells a database that is away (restarting, unreachable, refusing connections) from a query that
/// is wrong: the first is worth a 503 and a retry, the second is a bug to log.
public enum DatabaseUnavailable {
    /// True when `error` means PostgreSQL could not be reached or dropped the connection, so the
    /// statement did not commit and a client may simply try again.
    public static func matches(_ error: any Error) -> Bool {
        switch error {
        case is DatabaseTimeout:
            return true
        case let error as PSQLError:
            switch error.code {
            case .clientClosedConnection, .serverClosedConnection, .connectionError, .uncleanShutdown, .poolClosed:
                return true
            case .server:
                // Class 08 (connection exception), 57P01–57P03 (shutdown, crash, cannot connect now), 53300 (too many connections).
                guard let state = error.serverInfo?[.sqlState] else { return false }
                return state.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300"].contains(state)
            default:
                return false
            }
        default:
            // The pool's own "cannot create connections" error (its circuit breaker) is a type of the
            // underscored `_ConnectionPoolModule`; matched by name rather than depending on that module.
            return String(describing: type(of: error)) == "ConnectionPoolError"
        }
    }
}
