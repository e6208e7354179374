import Foundation
import Hummingbird
import Logging
import NIOCore
import RelayCore
import Synchronization

/// A subscriber for tests: a real HTTP server that records the callbacks it receives and answers each
/// path with a scripted list of statuses (then 200). Tests wait for a callback with a deadline, not a sleep.
public final class CallbackReceiver: Sendable {
    /// One callback as received.
    public struct Received: Sendable {
        public let path: String
        public let headers: [String: String]
        public let body: Data
        public let status: Int
        public var json: JSONValue { (try? JSONValue.parse(body)) ?? .null }
    }

    struct State {
        var received: [Received] = []
        var scripts: [String: [Int]] = [:]
        /// Paths whose requests wait until released (a slow subscriber), and the requests waiting.
        var holding: Set<String> = []
        var held: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let state = Mutex(State())
    private let waiters = Waiters()
    public let origin: String

    private init(origin: String) { self.origin = origin }

    public static func start() async throws -> CallbackReceiver {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let router = Router()
        let holder = Mutex<CallbackReceiver?>(nil)
        router.post("**") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard let receiver = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            await receiver.waitIfHeld(request.uri.path)
            return receiver.receive(path: request.uri.path, headers: request.headers, body: Data(buffer: body))
        }
        var logger = Logger(label: "callback-receiver")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: logger)
        Task { try? await app.run() }
        var port = 0
        for await value in stream { port = value }
        let receiver = CallbackReceiver(origin: "http://127.0.0.1:\(port)")
        holder.withLock { $0 = receiver }
        return receiver
    }

    /// Answers the next requests to `path` with these statuses, in order.
    public func script(_ path: String, statuses: [Int]) {
        state.withLock { $0.scripts[path, default: []].append(contentsOf: statuses) }
    }

    /// Requests to `path` wait, unanswered, until `release(path)`: a subscriber that hangs.
    public func hold(_ path: String) {
        state.withLock { _ = $0.holding.insert(path) }
    }

    /// Answers the requests held on `path`, and stops holding it.
    public func release(_ path: String) {
        let waiting = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.holding.remove(path)
            return state.held.removeValue(forKey: path) ?? []
        }
        for request in waiting { request.resume() }
    }

    /// How many requests are waiting on `path`.
    public func heldCount(_ path: String) -> Int { state.withLock { $0.held[path]?.count ?? 0 } }

    /// Waits (before answering) while `path` is held.
    func waitIfHeld(_ path: String) async {
        await withCheckedContinuation { continuation in
            let held = state.withLock { state -> Bool in
                guard state.holding.contains(path) else { return false }
                state.held[path, default: []].append(continuation)
                return true
            }
            if !held { continuation.resume() }
        }
    }

    func receive(path: String, headers: HTTPFields, body: Data) -> Response {
        let status = state.withLock { state -> Int in
            var status = 200
            if var script = state.scripts[path], !script.isEmpty {
                status = script.removeFirst()
                state.scripts[path] = script
            }
            var fields: [String: String] = [:]
            for field in headers { fields[field.name.canonicalName] = field.value }
            state.received.append(Received(path: path, headers: fields, body: body, status: status))
            return status
        }
        waiters.wake()
        return Response(status: .init(code: status))
    }

    public func all() -> [Received] { state.withLock { $0.received } }

    /// Waits until `count` callbacks to `path` about `eventID` (any event when nil) have arrived, or the deadline
    /// passes, and returns them.
    public func callbacks(path: String, eventID: String?, count: Int = 1, within seconds: Int = 60) async -> [Received] {
        await callbacks(path: path, count: count, within: seconds) { eventID == nil || $0["data"]?["event_id"]?.stringValue == eventID }
    }

    /// Waits until `count` callbacks to `path` whose JSON body satisfies `filter` have arrived (or the deadline passes).
    public func callbacks(
        path: String, count: Int = 1, within seconds: Int = 60, where filter: @escaping @Sendable (JSONValue) -> Bool
    ) async -> [Received] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let matches: @Sendable ([Received]) -> [Received] = { received in
            received.filter { $0.path == path && filter($0.json) }
        }
        _ = await waiters.wait(until: deadline) { matches(self.all()).count >= count }
        return matches(all())
    }
}
