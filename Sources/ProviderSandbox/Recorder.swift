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
    private let requests = Mutex<[RecordedRequest]>([])

    public init() {}

    func append(_ request: RecordedRequest) { requests.withLock { $0.append(request) } }

    /// Everything received, optionally only for one provider or one bearer token (tests run in parallel:
    /// each uses its own identity token to see only its own traffic).
    public func requests(provider: String? = nil, token: String? = nil) -> [RecordedRequest] {
        requests.withLock { list in
            list.filter { (provider == nil || $0.provider == provider) && (token == nil || $0.bearerToken == token) }
        }
    }

    public func reset() { requests.withLock { $0.removeAll() } }
}
