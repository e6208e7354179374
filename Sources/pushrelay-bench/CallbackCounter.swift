import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// The subscriber of the engine benchmark: counts the signed callbacks it receives and answers 204.
final class CallbackCounter: Sendable {
    private let received = Atomic<Int>(0)
    /// Run as a service, so that `stop()` shuts it down gracefully (a cancelled server logs an error).
    private let server = Mutex<ServiceGroup?>(nil)

    var count: Int { received.load(ordering: .relaxed) }

    /// Listens on a free local port; returns the URL to subscribe.
    func start(logger: Logger) async throws -> String {
        let router = Router()
        router.post("/callbacks") { _, _ -> HTTPResponse.Status in
            self.received.add(1, ordering: .relaxed)
            return .noContent
        }
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            },
            logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        server.withLock { $0 = group }
        Task {
            try? await group.run()
            continuation.finish()
        }
        var port: Int?
        for await value in stream { port = value }
        guard let port else { throw BenchError("the callback receiver could not listen") }
        return "http://127.0.0.1:\(port)/callbacks"
    }

    func stop() {
        guard let group = server.withLock({ $0 }) else { return }
        Task { await group.triggerGracefulShutdown() }
    }
}
