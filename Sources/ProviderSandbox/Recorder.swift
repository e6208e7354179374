import Foundation
import RelayCore
import Synchronization

/// One request the sandbox received, as tests and users' integration tests read it back.
public struct RecordedRequest: Sendable {
    public let provider: String
    public let method: String
    /// The path under the provider's base URL, e.g. `/2/tweets`.
    public let path: String
    public let query: String
    public let headers: [(String, String)]
    public let bodySize: Int
    /// The body when it is JSON or a form; for multipart, each field (binary fields summarised by size).
    public let body: JSONValue?
    /// The bearer token the request carried (the sandbox is the one place tokens are visible, by design).
    public let bearerToken: String?
    public let receivedAt: Date

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var json: JSONValue {
        [
            "provider": .string(provider), "method": .string(method), "path": .string(path), "query": .string(query),
            "headers": .object(headers.filter { $0.0.lowercased() != "authorization" }.map { ($0.0, .string($0.1)) }),
            "bearer_token": bearerToken.map(JSONValue.string) ?? .null,
            "body_size": .integer(Int64(bodySize)), "body": body ?? .null,
            "received_at": .string(RFC3339.format(receivedAt)),
        ]
    }
}

/// Keeps what the sandbox received, in order, for assertions.
public final class Recorder: Sendable {
    /// Someone waiting until enough matching requests have arrived (`waitFor`).
    struct Waiter {
        let id: UUID
        let matches: @Sendable (RecordedRequest) -> Bool
        let count: Int
        /// Matching requests received so far: each arrival is matched once, against each waiter, so a
        /// sandbox that has recorded thousands of requests does not scan them all at every arrival.
        var matched: Int
        let continuation: CheckedContinuation<Bool, Never>
    }

    /// The requests and the waiters under one lock, so that a waiter counts every request exactly once.
    struct State {
        var requests: [RecordedRequest] = []
        var waiters: [Waiter] = []
    }

    private let state = Mutex(State())

    public init() {}

    func append(_ request: RecordedRequest) {
        let ready = state.withLock { state -> [Waiter] in
            state.requests.append(request)
            guard !state.waiters.isEmpty else { return [] }
            for index in state.waiters.indices where state.waiters[index].matches(request) { state.waiters[index].matched += 1 }
            let ready = state.waiters.filter { $0.matched >= $0.count }
            state.waiters.removeAll { $0.matched >= $0.count }
            return ready
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    /// Waits until `count` requests matching `matches` have been received (counting those already
    /// received), or `timeout` passed; true when they arrived. Lets a test act at a precise point of a
    /// publishing run (e.g. kill the relay once calls are in flight) without sleeping.
    public func waitFor(
        count: Int, timeout: Duration = .seconds(60), where matches: @escaping @Sendable (RecordedRequest) -> Bool
    ) async -> Bool {
        let id = UUID()
        let timer = Task {
            try? await Task.sleep(for: timeout)
            let expired = state.withLock { state in
                state.waiters.firstIndex { $0.id == id }.map { state.waiters.remove(at: $0) }
            }
            expired?.continuation.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let arrived = state.withLock { state -> Bool in
                let matched = state.requests.lazy.filter(matches).count
                guard matched < count else { return true }
                state.waiters.append(Waiter(id: id, matches: matches, count: count, matched: matched, continuation: continuation))
                return false
            }
            if arrived { continuation.resume(returning: true) }
        }
    }

    /// Everything received, optionally only for one provider or one bearer token (tests run in parallel:
    /// each uses its own identity token to see only its own traffic).
    public func requests(provider: String? = nil, token: String? = nil) -> [RecordedRequest] {
        state.withLock { state in
            state.requests.filter { (provider == nil || $0.provider == provider) && (token == nil || $0.bearerToken == token) }
        }
    }

    /// Forgets the requests received so far (waiters keep their counts).
    public func reset() { state.withLock { $0.requests.removeAll() } }
}
