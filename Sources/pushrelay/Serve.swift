import ArgumentParser
import Foundation
import Logging
import ProviderSandbox
import RelayCore
import RelayHTTP
import RelayStore
import Synchronization

/// `pushrelay serve`: runs the relay until SIGTERM or SIGINT.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the relay: HTTP API, webhooks and publishing workers.",
        discussion: """
            Every option mirrors an environment variable (DESIGN §6); an option given here wins. \
            With DATABASE_URL unset, a private PostgreSQL is created under .pushrelay/ and stopped on exit.
            """)

    @Option(help: "Listen address (PUSHRELAY_HOST, default 127.0.0.1).") var host: String?
    @Option(help: "Listen port (PUSHRELAY_PORT, default 8080).") var port: String?
    @Option(help: "api, worker or all (PUSHRELAY_ROLE, default all).") var role: String?
    @Option(
        name: .customLong("metrics-port"),
        help: "A listener for /healthz, /readyz and /metrics only, on the same host (PUSHRELAY_METRICS_PORT, default none).")
    var metricsPort: String?
    @Flag(help: "Talk to the built-in provider sandbox instead of the real networks (PUSHRELAY_SANDBOX).") var sandbox = false
    @Option(name: .customLong("database-url"), help: "postgres://user:password@host:port/database (DATABASE_URL).")
    var databaseURL: String?
    @Option(help: "Concurrent publish jobs in this process (PUSHRELAY_WORKERS, default 16).") var workers: String?
    @Option(name: .customLong("sync-timeout"), help: "Seconds a synchronous Push API call waits (PUSHRELAY_SYNC_TIMEOUT, default 10).")
    var syncTimeout: String?
    @Option(name: .customLong("data-dir"), help: "Where managed mode keeps its database and keys (PUSHRELAY_DATA_DIR, default .pushrelay).")
    var dataDirectory: String?
    @Option(name: .customLong("log-format"), help: "text or json (LOG_FORMAT).") var logFormat: String?

    func run() async throws {
        MemoryTuning.apply()
        var environment = ProcessInfo.processInfo.environment
        let overrides: [(String, String?)] = [
            ("PUSHRELAY_HOST", host), ("PUSHRELAY_PORT", port), ("PUSHRELAY_ROLE", role), ("PUSHRELAY_METRICS_PORT", metricsPort),
            ("DATABASE_URL", databaseURL),
            ("PUSHRELAY_WORKERS", workers), ("PUSHRELAY_SYNC_TIMEOUT", syncTimeout), ("PUSHRELAY_DATA_DIR", dataDirectory),
            ("LOG_FORMAT", logFormat), ("PUSHRELAY_SANDBOX", sandbox ? "1" : nil),
        ]
        for case let (name, value?) in overrides { environment[name] = value }
        var configuration = try Self.configuration(from: environment)
        let logger = LogSetup.bootstrap(json: configuration.logFormatJSON, level: configuration.logLevel)
        for name in Configuration.unknownVariables(in: environment) {
            logger.warning("ignoring an unknown variable (a typo?)", metadata: ["variable": "\(name)"])
        }

        let database = try await DatabaseBootstrap.open(configuration, logger: logger)
        defer { database.stopManaged() }

        var sandboxServer: ProviderSandbox?
        var printed: [String] = []
        // The banner shows the secrets made here for development (the developer needs them), never one the
        // operator configured: stdout ends up in journals and container logs.
        var printsPrivateKey = false
        if configuration.sandbox {
            let sandbox = ProviderSandbox(logger: logger)
            // Next to the relay's port when it is free (and not the metrics listener's), so the README's commands
            // keep working across restarts.
            if configuration.port == 0 || configuration.port == 65535 || configuration.metricsPort == configuration.port + 1 {
                _ = try await sandbox.start(host: "127.0.0.1", port: 0)
            } else {
                do {
                    _ = try await sandbox.start(host: "127.0.0.1", port: configuration.port + 1)
                } catch {
                    logger.notice("port \(configuration.port + 1) is taken: the provider sandbox listens on a free port", metadata: ["error": "\(error)"])
                    _ = try await sandbox.start(host: "127.0.0.1", port: 0)
                }
            }
            sandbox.configure(&configuration)
            let dev = try DevCredentials.load(in: URL(fileURLWithPath: configuration.dataDirectory))
            if configuration.apiKey == nil {
                configuration.apiKey = dev.apiKey
                printsPrivateKey = true
            }
            if configuration.webhookSecrets.isEmpty {
                configuration.webhookSecrets = [dev.webhookSecret]
                printed.append("webhook secret:  \(dev.webhookSecret)   (PUSHRELAY_WEBHOOK_SECRET)")
            }
            printed.insert("sandbox:         \(sandbox.origin)  (providers under /x, /pinterest, …; media at /media/)", at: 0)
            sandboxServer = sandbox
        }
        defer { sandboxServer?.stop() }

        let finalConfiguration = configuration
        let banner = printed
        let bannerLines = BannerLines()
        let databaseDescription = database.managed != nil || configuration.databaseURL == nil
            ? "\(database.settings.url)  (managed, \(configuration.dataDirectory)/postgres)" : database.settings.description
        do {
            try await runRelay(
                configuration: finalConfiguration, database: database, logger: logger, banner: banner, bannerLines: bannerLines,
                printsPrivateKey: printsPrivateKey, databaseDescription: databaseDescription)
        } catch let error as ExitCode {
            throw error
        } catch {
            // PostgresNIO's errors hide their details from `description`; an operator needs them.
            throw Self.fail(String(reflecting: error))
        }
    }

    func runRelay(
        configuration finalConfiguration: Configuration, database: DatabaseBootstrap, logger: Logger, banner: [String],
        bannerLines: BannerLines, printsPrivateKey: Bool, databaseDescription: String
    ) async throws {
        let apiKey = finalConfiguration.apiKey
        let callbackSecret = finalConfiguration.callbackSecret
        try await RelayServer.run(
            configuration: finalConfiguration, database: database.settings, cipher: database.cipher, logger: logger,
            shutdownSignals: [.sigterm, .sigint],
            prepare: { store in
                var lines = banner
                if let apiKey {
                    let secret = try await store.apiKeys.ensure(
                        publicKey: apiKey.publicKey, privateKey: apiKey.privateKey, callbackSecret: callbackSecret)
                    if printsPrivateKey {
                        let whole = "\(apiKey.publicKey):\(apiKey.privateKey)"
                        lines.append("API key:         \(whole)   (curl -u \(whole) …)")
                    } else {
                        lines.append("API key:         \(apiKey.publicKey)   (its private key as set in PUSHRELAY_API_KEY)")
                    }
                    if let secret { lines.append("callback secret: \(secret)   (signs callbacks to this key's callback_url; shown once)") }
                } else {
                    lines.append("API key:         none configured; create one with `pushrelay keys create` or set PUSHRELAY_API_KEY")
                }
                lines.append("database:        \(databaseDescription)")
                bannerLines.set(lines)
            },
            onReady: { ready in
                // A worker-only process listens only for health and metrics, when asked to.
                let port = finalConfiguration.role.runsAPI ? ready.port : (ready.metricsPort ?? 0)
                let address = "http://\(finalConfiguration.host):\(port)"
                var lines = bannerLines.get()
                if let metricsPort = ready.metricsPort {
                    lines.insert("metrics:         http://\(finalConfiguration.host):\(metricsPort)/metrics (and /healthz, /readyz)", at: 0)
                }
                let text = (["PushRelay is listening on \(address)"] + lines.map { "  " + $0 }).joined(separator: "\n")
                FileHandle.standardOutput.write(Data((text + "\n").utf8))
            })
    }


    static func configuration(from environment: [String: String]) throws -> Configuration {
        do {
            return try Configuration(environment: environment)
        } catch {
            throw fail(error.description)
        }
    }

    /// Prints one line on stderr and exits with status 2.
    static func fail(_ line: String) -> ExitCode {
        FileHandle.standardError.write(Data(((line.hasPrefix("pushrelay:") ? line : "pushrelay: \(line)") + "\n").utf8))
        return ExitCode(2)
    }
}

/// The start-up summary, built once the database is ready and printed once the listener is.
final class BannerLines: Sendable {
    private let lines = Mutex<[String]>([])
    func set(_ value: [String]) { lines.withLock { $0 = value } }
    func get() -> [String] { lines.withLock { $0 } }
}

/// The development API key and webhook secret of `serve --sandbox`, kept in the data directory so
/// they survive restarts and the README's curl commands keep working.
struct DevCredentials: Codable {
    var publicKey: String
    var privateKey: String
    var webhookSecret: String

    var apiKey: (publicKey: String, privateKey: String) { (publicKey, privateKey) }

    static func load(in directory: URL) throws -> DevCredentials {
        let file = directory.appendingPathComponent("dev-credentials.json")
        if let data = try? Data(contentsOf: file), let saved = try? JSONDecoder().decode(DevCredentials.self, from: data) {
            return saved
        }
        let fresh = DevCredentials(
            publicKey: "dev-" + UUID().uuidString.prefix(8).lowercased(), privateKey: UUID().lowercasedString,
            webhookSecret: APIKeyRepository.newCallbackSecret())
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try JSONEncoder().encode(fresh).write(to: file)
        chmod(file.path, 0o600)
        return fresh
    }
}
