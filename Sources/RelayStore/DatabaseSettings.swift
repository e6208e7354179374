import Foundation
import NIOSSL
import PostgresNIO

/// Where the database is, parsed once from a `postgres://` URL.
///
/// PostgresNIO takes host/port/user separately; this is the one place a `DATABASE_URL` becomes those.
public struct DatabaseSettings: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable { case disable, prefer, require }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode

    public init(host: String, port: Int, username: String, password: String?, database: String, tls: TLSMode = .disable) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
    }

    /// Parses `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty
        else {
            throw DatabaseError("DATABASE_URL must look like postgres://user:password@host:port/database")
        }
        let sslmode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: components.user?.removingPercentEncoding ?? "postgres",
            password: components.password?.removingPercentEncoding,
            database: String(components.path.drop { $0 == "/" }).removingPercentEncoding.flatMap { $0.isEmpty ? nil : $0 }
                ?? "postgres",
            tls: sslmode == "disable" ? .disable : sslmode == "require" || sslmode == "verify-full" ? .require : .prefer
        )
    }

    /// The URL, with the password hidden, for logs.
    public var description: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    /// The full URL, password included (managed mode hands it to `psql` users).
    public var url: String {
        let user = username.addingPercentEncoding(withAllowedCharacters: .urlUserAllowed) ?? username
        let secret = password.flatMap { $0.addingPercentEncoding(withAllowedCharacters: .urlPasswordAllowed) }
        return "postgres://\(user)\(secret.map { ":\($0)" } ?? "")@\(host):\(port)/\(database)"
    }

    public func with(database: String) -> DatabaseSettings {
        var copy = self
        copy.database = database
        return copy
    }

    public func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database,
            tls: clientTLS)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 1
        configuration.options.connectTimeout = .seconds(5)
        // Prepared statements (the claims, the end of a try) and the PL/pgSQL bodies keep one plan per
        // connection. With the default (`auto`) PostgreSQL kept planning the claim at every call: its
        // `run_at <= now()` sends the planner to read the ends of the index, through the entries of jobs
        // just finished (1–4 ms a claim on a busy queue). Every statement PushRelay sends looks rows up by key
        // or by a partial index, so a plan made without the parameters' values is the same plan.
        //
        // Those plans are often made on a new database, while the tables are small and never vacuumed: the
        // planner then takes a table for ten pages and a sequential scan for cheaper than ten index lookups,
        // and the plan is kept as the table grows (the job claim read all of `publish_jobs` at every call until
        // an autoanalyze replaced its plan). `random_page_cost = 1.1`, the usual value when the data is cached
        // or on SSDs, prices index lookups as what they cost here (`ClaimPlanTests`).
        configuration.options.additionalStartupParameters = [("plan_cache_mode", "force_generic_plan"), ("random_page_cost", "1.1")]
        return configuration
    }

    public func connectionConfiguration() -> PostgresConnection.Configuration {
        let connectionTLS: PostgresConnection.Configuration.TLS
        switch tls {
        case .disable: connectionTLS = .disable
        case .prefer: connectionTLS = (try? .prefer(.init(configuration: .makeClientConfiguration()))) ?? .disable
        case .require: connectionTLS = (try? .require(.init(configuration: .makeClientConfiguration()))) ?? .disable
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: connectionTLS)
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
    }
}

/// A database problem worth a clear sentence (bad URL, migration failure, managed cluster failure).
public struct DatabaseError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension DatabaseSettings {
    /// Opens one connection and closes it: a clear error at start instead of a pool retrying forever.
    public func checkConnection(logger: Logger) async throws {
        do {
            let connection = try await PostgresConnection.connect(configuration: connectionConfiguration(), id: 0, logger: logger)
            try? await connection.close()
        } catch let error as PSQLError {
            // The server's sentence when it answered, else the network's (connection refused, no such host…).
            let reason = error.serverInfo?[.message] ?? error.underlying.map { "\($0)" } ?? String(reflecting: error.code)
            throw DatabaseError("cannot connect to \(description): \(reason)")
        } catch {
            throw DatabaseError("cannot connect to \(description): \(error)")
        }
    }

    /// Creates the database if it does not exist (managed mode and tests), connecting to `postgres`.
    public func createDatabaseIfNeeded(logger: Logger) async throws {
        let admin = try await PostgresConnection.connect(
            configuration: with(database: "postgres").connectionConfiguration(), id: 0, logger: logger)
        defer { Task { try? await admin.close() } }
        let rows = try await admin.query("SELECT 1 FROM pg_database WHERE datname = \(database)", logger: logger)
        for try await _ in rows { return }
        let quoted = "\"" + database.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        try await admin.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(quoted)"), logger: logger)
    }
}

import Logging
