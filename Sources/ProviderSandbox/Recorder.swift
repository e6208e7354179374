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
        let continuation: CheckedContinuation<Bool, Never>
    }

    private let requests = Mutex<[RecordedRequest]>([])
    private let waiters = Mutex<[Waiter]>([])

    public init() {}

    func append(_ request: RecordedRequest) {
        requests.withLock { $0.append(request) }
        let ready = waiters.withLock { waiters -> [Waiter] in
            guard !waiters.isEmpty else { return [] }
            let ready = waiters.filter { waiter in
                requests.withLock { list in list.lazy.filter(waiter.matches).count >= waiter.count }
            }
            waiters.removeAll { waiter in ready.contains { $0.id == waiter.id } }
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
            let expired = waiters.withLock { waiters in
                let index = waiters.firstIndex { $0.id == id }
                return index.map { waiters.remove(at: $0) }
            }
            expired?.continuation.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let already = requests.withLock { list in list.lazy.filter(matches).count >= count }
            if already {
                continuation.resume(returning: true)
            } else {
                waiters.withLock { $0.append(Waiter(id: id, matches: matches, count: count, continuation: continuation)) }
                // A request may have arrived between the two locks.
                let arrived = requests.withLock { list in list.lazy.filter(matches).count >= count }
                if arrived {
                    let mine = waiters.withLock { waiters in
                        let index = waiters.firstIndex { $0.id == id }
                        return index.map { waiters.remove(at: $0) }
                    }
                    mine?.continuation.resume(returning: true)
                }
            }
        }
    }

    /// Everything received, optionally only for one provider or one bearer token (tests run in parallel:
    /// each uses its own identity token to see only its own traffic).
    public func requests(provider: String? = nil, token: String? = nil) -> [RecordedRequest] {
        requests.withLock { list in
            list.filter { (provider == nil || $0.provider == provider) && (token == nil || $0.bearerToken == token) }
        }
    }

    public func reset() { requests.withLock { $0.removeAll() } }
}
