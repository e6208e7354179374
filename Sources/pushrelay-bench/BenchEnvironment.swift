import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import ProviderSandbox
import RelayEngine
import RelayStore
import ServeProcess

/// What every measurement shares: one PostgreSQL server (`DATABASE_URL`, or a throwaway cluster), the
/// provider sandbox in this process, an HTTP client, and the credentials the relay processes accept.
///
/// The relay under measurement always runs as its own `pushrelay serve` process, so its memory and CPU
/// are its own and not the load generator's.
final class BenchEnvironment: Sendable {
    let server: DatabaseSettings
    let managed: ManagedPostgres?
    let sandbox: ProviderSandbox
    let http: HTTPClient
    let logger: Logger
    let apiKey = (publicKey: "bench-key", privateKey: UUID().lowercasedString)
    let webhookSecret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    let callbackSecret = "whsec_" + Data((0..<24).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
    let encryptionKey = CredentialCipher.generateKey()
    let relayExecutable: URL
    /// `LOG_LEVEL` of the relays under measurement: by default theirs (`info`, a line per request and per
    /// job outcome), as operators run them.
    let relayLogLevel: String

    init(
        server: DatabaseSettings, managed: ManagedPostgres?, sandbox: ProviderSandbox, relayExecutable: URL, relayLogLevel: String,
        logger: Logger
    ) {
        self.server = server
        self.relayLogLevel = relayLogLevel
        self.managed = managed
        self.sandbox = sandbox
        self.relayExecutable = relayExecutable
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        configuration.tracing.tracer = nil  // as the relay's clients: no spans of a no-op tracer on the load side
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    static func start(relayLogLevel: String, logger: Logger) async throws -> BenchEnvironment {
        let relay = try locateRelay()
        let sandbox = ProviderSandbox(logger: logger)
        _ = try await sandbox.start()
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            return BenchEnvironment(server: try DatabaseSettings(url: url), managed: nil, sandbox: sandbox, relayExecutable: relay, relayLogLevel: relayLogLevel, logger: logger)
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-bench-\(UUID().uuidString.prefix(8))")
        let managed = ManagedPostgres(directory: directory, logger: logger)
        let server = try await managed.start(database: "postgres").settings
        return BenchEnvironment(server: server, managed: managed, sandbox: sandbox, relayExecutable: relay, relayLogLevel: relayLogLevel, logger: logger)
    }

    /// `pushrelay` next to this executable; built (same configuration) when it is missing.
    static func locateRelay() throws -> URL {
        let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let relay = here.appendingPathComponent("pushrelay")
        if FileManager.default.isExecutableFile(atPath: relay.path) { return relay }
        let configuration = here.path.contains("/release") ? "release" : "debug"
        print("building pushrelay (\(configuration)) next to the benchmark…")
        let build = Process()
        build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        build.arguments = ["swift", "build", "-c", configuration, "--product", "pushrelay"]
        try build.run()
        build.waitUntilExit()
        guard build.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: relay.path) else {
            throw BenchError("could not build pushrelay: run `swift build -c \(configuration) --product pushrelay` first")
        }
        return relay
    }

    func stop() async {
        try? await http.shutdown()
        sandbox.stop()
        managed?.stop()
        if let managed { try? FileManager.default.removeItem(at: managed.directory) }
    }

    /// A new, empty database on the server.
    func freshDatabase() async throws -> DatabaseSettings {
        let settings = server.with(database: "pushrelay_bench_\(UUID().uuidString.prefix(8).lowercased())")
        try await settings.createDatabaseIfNeeded(logger: logger)
        return settings
    }

    /// Starts `pushrelay serve` on `database` with these extra variables (PUSHRELAY_ROLE, PUSHRELAY_WORKERS…).
    func startRelay(database: DatabaseSettings, _ extra: [String: String] = [:], name: String) async throws -> RelayProcess {
        var variables = RelayProcess.variables(
            sandbox: sandbox, database: database, encryptionKey: encryptionKey, apiKey: apiKey, webhookSecret: webhookSecret,
            callbackSecret: callbackSecret)
        variables["LOG_LEVEL"] = relayLogLevel
        variables.merge(extra) { $1 }
        return try await RelayProcess.start(variables, name: "bench-\(name)", executable: relayExecutable, watchingLog: false)
    }

    /// Connects a new identity by a signed identity-connected webhook; returns (identity token, access token).
    func connectIdentity(base: String, provider: String = "twitter") async throws -> (token: String, accessToken: String) {
        let token = UUID().lowercasedString
        let accessToken = "bench-\(UUID().lowercasedString)"
        let body = """
            {"type":"identity.connected","data":{"identity_token":"\(token)","provider":"\(provider)",\
            "provider_user_id":"\(UInt64.random(in: 1...UInt64.max))","display_name":"Bench",\
            "credentials":{"access_token":"\(accessToken)","refresh_token":"refresh-\(accessToken)","expires_at":null,\
            "scope":"tweet.write media.write youtube.upload"},"accounts":[]}}
            """
        let reply = try await webhook(base: base, name: "identity-connected", body: body)
        guard reply.status == 202 else { throw BenchError("identity-connected answered \(reply.status)") }
        return (token, accessToken)
    }

    /// A signed webhook (Standard Webhooks headers).
    func webhook(base: String, name: String, body: String) async throws -> (status: Int, headers: HTTPHeaders) {
        let id = "msg_\(UUID().uuidString)"
        let timestamp = Int(Date().timeIntervalSince1970)
        let signature = StandardWebhooks(secrets: [webhookSecret]).signature(id: id, timestamp: timestamp, body: Data(body.utf8))
        return try await send(
            .POST, base + "/webhooks/" + name, body: body,
            headers: [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature)], authenticated: false)
    }

    /// A Push API request (HTTP Basic with the bench key).
    func send(
        _ method: HTTPMethod, _ url: String, body: String? = nil, headers: [(String, String)] = [], authenticated: Bool = true,
        timeout: TimeAmount = .seconds(120)
    ) async throws -> (status: Int, headers: HTTPHeaders) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if authenticated {
            request.headers.add(name: "Authorization", value: "Basic " + Data("\(apiKey.publicKey):\(apiKey.privateKey)".utf8).base64EncodedString())
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await http.execute(request, timeout: timeout)
        _ = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers)
    }

    /// Puts on disk what the steps before wrote, before a timed load: a `CHECKPOINT` (PostgreSQL's dirty
    /// buffers to its files), then `sync(2)` (the kernel's dirty pages to the disk).
    ///
    /// Without it, a step's writes were flushed during the next one: the kernel writes a dirty page back
    /// about 30 s after it was dirtied, and anchor A leaves ~500 MB of them. Measured during the ingest
    /// step's run at half its rate: the disk wrote ~400 MB in 0.4 s, every commit waited behind those
    /// writes, and acknowledgements took up to 313 ms (BENCHMARKS.md). A step's own writes still count:
    /// only what came before it is settled. Without the right to `CHECKPOINT` (a `DATABASE_URL` of a
    /// user without `pg_checkpoint`), only the `sync(2)` is done.
    func settle() async {
        do {
            let connection = try await PostgresConnection.connect(configuration: server.connectionConfiguration(), id: 2, logger: logger)
            defer { Task { try? await connection.close() } }
            for try await _ in try await connection.query("CHECKPOINT", logger: logger) {}
        } catch {
            logger.warning("could not CHECKPOINT before a timed load; the kernel's pages are synced only", metadata: ["error": "\(error)"])
        }
        sync()
    }

    /// Counts the publish jobs of `database` in a final state.
    func finalJobs(_ database: DatabaseSettings) async throws -> Int {
        let connection = try await PostgresConnection.connect(configuration: database.connectionConfiguration(), id: 1, logger: logger)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(
            "SELECT count(*) FROM publish_jobs WHERE state IN ('succeeded', 'failed', 'indeterminate', 'cancelled')", logger: logger)
        for try await count in rows.decode(Int.self) { return count }
        return 0
    }
}

extension BenchEnvironment {
    /// Waits until no callback of `database` is still to be delivered or recorded: the engine is idle.
    /// (The benchmark may poll: it is not a test.) `connection` is the caller's, kept open between samples.
    func waitUntilCallbacksSettle(on connection: PostgresConnection) async throws {
        let clock = ContinuousClock()
        let started = clock.now
        while true {
            let rows = try await connection.query(
                "SELECT count(*) FROM callbacks WHERE state IN ('pending', 'delivering')", logger: logger)
            var open = 0
            for try await count in rows.decode(Int.self) { open = count }
            if open == 0 { return }
            if clock.now - started > .seconds(30) { throw BenchError("\(open) callbacks still open after 30 s") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// A benchmark step that could not run.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
