import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import RelayCore
import RelayEngine
import RelayProviders
import RelayStore
import ServiceLifecycle
import UnixSignals

/// Wires the routes of PushRelay's HTTP API. The server and the tests both call this, so what is
/// tested is what ships.
public func buildRouter(
    store: Store, intake: PublishIntake, webhooks: StandardWebhooks, policy: AddressPolicy, logger: Logger
) -> Router<RelayRequestContext> {
    // HEAD answers every GET route with the GET's status and headers (monitors often probe with HEAD).
    let router = Router(context: RelayRequestContext.self, options: .autoGenerateHeadEndpoints)
    // Outside the envelope's: it counts every answer by its status, refusals included.
    router.add(middleware: RequestMetricsMiddleware())
    router.add(middleware: EnvelopeMiddleware(logger: logger))
    let authenticator = APIKeyAuthenticator(store: store, cache: AuthenticationCache())
    HealthController(store: store).addRoutes(to: router)
    MetricsController(store: store).addRoutes(to: router)
    PushController(store: store, intake: intake, authenticator: authenticator).addRoutes(to: router)
    EventController(store: store, intake: intake, authenticator: authenticator).addRoutes(to: router)
    WebhookController(store: store, intake: intake, verifier: webhooks).addRoutes(to: router)
    IdentityController(store: store, authenticator: authenticator).addRoutes(to: router)
    SubscriptionController(store: store, authenticator: authenticator, policy: policy).addRoutes(to: router)
    return router
}

/// Wires the routes of the metrics listener (`PUSHRELAY_METRICS_PORT`): health and metrics only, so that a
/// worker-only process can be probed and scraped, and scrapers need no access to the API's port.
public func buildMonitoringRouter(store: Store, logger: Logger) -> Router<RelayRequestContext> {
    let router = Router(context: RelayRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: EnvelopeMiddleware(logger: logger))
    HealthController(store: store).addRoutes(to: router)
    MetricsController(store: store).addRoutes(to: router)
    return router
}

/// The whole relay in one process: database pool, migrations, LISTEN, workers and HTTP listener.
///
/// `pushrelay serve` runs it until SIGTERM/SIGINT; the tests run it in a task and cancel it.
public enum RelayServer {
    /// What the caller learns once the relay is ready.
    public struct Ready: Sendable {
        /// The API's port; 0 in a worker-only process.
        public let port: Int
        /// The metrics listener's port, when `Configuration.metricsPort` asks for one.
        public let metricsPort: Int?
        public let store: Store
    }

    /// Runs until cancelled or, when `shutdownSignals` is not empty, until one of them arrives.
    /// `prepare` runs after the migrations and before the listener opens (creating dev keys, say).
    public static func run(
        configuration: Configuration, database: DatabaseSettings, cipher: CredentialCipher, logger: Logger,
        shutdownSignals: [UnixSignal] = [], prepare: @Sendable (Store) async throws -> Void = { _ in },
        onReady: @escaping @Sendable (Ready) async -> Void = { _ in }
    ) async throws {
        RelayMetrics.bootstrap()
        let client = PostgresClient(
            configuration: database.clientConfiguration(maximumConnections: max(10, configuration.workers + 8)),
            backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            let store = Store(client: client, cipher: cipher, logger: logger)
            try await MigrationRunner(client: client, logger: logger).migrate()
            try await prepare(store)

            var httpConfiguration = HTTPClient.Configuration.relay()
            // Every worker may be talking to the same provider host (and fetching media) at once.
            httpConfiguration.connectionPool = .init(
                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, configuration.workers * 2))
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
            let broker = OutcomeBroker()
            let media = MediaFetcher(http: http, policy: AddressPolicy(allowPrivate: configuration.mediaAllowPrivate))
            let adapters: [Provider: any ProviderAdapter] = [
                .twitter: TwitterAdapter(baseURL: configuration.providers[.twitter]!.apiURL),
                .pinterest: PinterestAdapter(baseURL: configuration.providers[.pinterest]!.apiURL),
                .linkedin: LinkedInAdapter(baseURL: configuration.providers[.linkedin]!.apiURL, version: configuration.linkedinVersion),
                .youtube: YouTubeAdapter(baseURL: configuration.providers[.youtube]!.apiURL),
                .facebook: FacebookAdapter(baseURL: configuration.providers[.facebook]!.apiURL, version: configuration.facebookGraphVersion),
            ]
            var services: [any Service] = [ListenerService(listener: NotificationListener(settings: database, logger: logger), broker: broker)]
            let gate = ReadyGate(
                listeners: (configuration.role.runsAPI ? 1 : 0) + (configuration.metricsPort == nil ? 0 : 1),
                onReady: { api, metrics in await onReady(Ready(port: api ?? 0, metricsPort: metrics, store: store)) })
            var publishWorker: PublishWorker?
            if configuration.role.runsWorkers {
                let worker = PublishWorker(
                    store: store, adapters: adapters, http: http, media: media, broker: broker, configuration: configuration, logger: logger)
                publishWorker = worker
                services.append(worker)
                services.append(LeaseRescuer(store: store, configuration: configuration, logger: logger))
                services.append(CallbackWorker(store: store, http: http, broker: broker, configuration: configuration, logger: logger))
            }
            if configuration.role.runsAPI {
                let intake = PublishIntake(
                    store: store, broker: broker, syncTimeout: configuration.syncTimeout,
                    callbackPolicy: AddressPolicy(allowPrivate: configuration.mediaAllowPrivate), localWorker: publishWorker, logger: logger)
                let router = buildRouter(
                    store: store, intake: intake, webhooks: StandardWebhooks(secrets: configuration.webhookSecrets),
                    policy: AddressPolicy(allowPrivate: configuration.mediaAllowPrivate), logger: logger)
                let app = Application(
                    router: router,
                    server: .http1(
                        configuration: .init(
                            additionalChannelHandlers: [
                                MalformedRequestHandler(logger: logger),
                                RequestDeadlineHandler(timeout: configuration.requestTimeout, logger: logger),
                            ],
                            idleTimeout: TimeAmount(configuration.idleTimeout))),
                    configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "PushRelay"),
                    onServerRunning: { channel in await gate.running(api: channel.localAddress?.port ?? 0) },
                    logger: logger)
                services.append(app)
            }
            if let metricsPort = configuration.metricsPort {
                let monitoring = Application(
                    router: buildMonitoringRouter(store: store, logger: logger),
                    server: .http1(
                        configuration: .init(
                            additionalChannelHandlers: [
                                MalformedRequestHandler(logger: logger),
                                RequestDeadlineHandler(timeout: configuration.requestTimeout, logger: logger),
                            ],
                            idleTimeout: TimeAmount(configuration.idleTimeout))),
                    configuration: .init(address: .hostname(configuration.host, port: metricsPort), serverName: "PushRelay"),
                    onServerRunning: { channel in await gate.running(metrics: channel.localAddress?.port ?? 0) },
                    logger: logger)
                services.append(monitoring)
            }
            await gate.start()
            let serviceGroup = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: shutdownSignals, logger: logger))
            do {
                try await serviceGroup.run()
            } catch let error as IOError where error.errnoCode == EADDRINUSE {
                try? await http.shutdown()
                let listeners = [
                    configuration.role.runsAPI ? ("PUSHRELAY_PORT", configuration.port) : nil,
                    configuration.metricsPort.map { ("PUSHRELAY_METRICS_PORT", $0) },
                ].compactMap { $0 }
                throw AddressInUse(host: configuration.host, listeners: await gate.notRunning(of: listeners))
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }
}

/// Says the relay is ready once every listener of the process runs: the API's, the metrics one, both, or
/// neither (a worker-only process without a metrics port is ready once its services are built).
actor ReadyGate {
    private var waiting: Int
    private var api: Int?
    private var metrics: Int?
    private let onReady: @Sendable (_ api: Int?, _ metrics: Int?) async -> Void

    init(listeners: Int, onReady: @escaping @Sendable (_ api: Int?, _ metrics: Int?) async -> Void) {
        waiting = listeners
        self.onReady = onReady
    }

    /// Called once the services are assembled: ready at once when there is no listener to wait for.
    func start() async {
        if waiting == 0 { await onReady(nil, nil) }
    }

    func running(api port: Int) async {
        api = port
        await arrived()
    }

    func running(metrics port: Int) async {
        metrics = port
        await arrived()
    }

    /// The listeners among `listeners` (variable, port) that did not start.
    func notRunning(of listeners: [(String, Int)]) -> [(String, Int)] {
        listeners.filter { name, _ in name == "PUSHRELAY_PORT" ? api == nil : metrics == nil }
    }

    private func arrived() async {
        waiting -= 1
        if waiting == 0 { await onReady(api, metrics) }
    }
}

/// Keeps the LISTEN connection open for this process and hands notifications to the broker.
struct ListenerService: Service {
    let listener: NotificationListener
    let broker: OutcomeBroker

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await listener.run(onConnected: { broker.reconnected() }, onNotification: { broker.handle(notification: $0) })
        }
    }
}

/// A listener's port is taken (another relay, or another service): said with the address and the variable
/// that sets it, instead of NIO's `bind(descriptor:ptr:bytes:)` error.
struct AddressInUse: Error, CustomStringConvertible {
    let host: String
    let listeners: [(String, Int)]

    var description: String {
        let ports = listeners.map { name, port in "\(host):\(port) (\(name))" }.joined(separator: " or ")
        return "cannot listen on \(ports.isEmpty ? host : ports): the address is in use by another process"
    }
}
