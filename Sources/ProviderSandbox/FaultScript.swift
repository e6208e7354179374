import Foundation
import RelayCore
import Synchronization

/// A failure the sandbox is told to produce, for tests of retries, rate limits and lost answers.
public struct SandboxFault: Sendable {
    public enum Action: Sendable {
        /// Answer with this status, body and headers (e.g. 503, or 429 with `Retry-After`).
        case respond(status: Int, body: JSONValue, headers: [(String, String)])
        /// Answer as the provider does for an expired or revoked access token.
        case expiredToken
        /// Read the whole request, then close the connection without answering.
        case dropConnection
        /// Wait this long, then answer normally.
        case delay(Duration)
    }

    public var provider: String
    /// Matches when the request path contains this (e.g. `/2/tweets`); nil matches every path.
    public var pathContains: String?
    public var method: String?
    /// Matches only requests with this bearer token; nil matches all.
    public var token: String?
    /// How many matching requests fail; then the fault is spent.
    public var times: Int
    public var action: Action

    public init(provider: String, pathContains: String? = nil, method: String? = nil, token: String? = nil, times: Int = 1, action: Action) {
        self.provider = provider
        self.pathContains = pathContains
        self.method = method
        self.token = token
        self.times = times
        self.action = action
    }

    /// Parses the JSON form of `POST /_sandbox/faults`:
    /// `{"provider":"x","path":"/2/tweets","token":"…","times":1,"status":503,"retry_after":2}` or `"action":"expired_token|drop|delay"`.
    public init(json: JSONValue) throws(RelayError) {
        let reader = FieldReader(json, path: "fault")
        provider = try reader.requiredString("provider")
        pathContains = try reader.string("path")
        method = try reader.string("method")?.uppercased()
        token = try reader.string("token")
        if case .integer(let count)? = json["times"] { times = Int(count) } else { times = 1 }
        switch try reader.string("action") ?? "respond" {
        case "expired_token": action = .expiredToken
        case "drop": action = .dropConnection
        case "delay":
            guard case .integer(let ms)? = json["delay_ms"] else { throw .badRequest("fault.delay_ms is required for delay") }
            action = .delay(.milliseconds(ms))
        case "respond":
            guard case .integer(let status)? = json["status"] else { throw .badRequest("fault.status is required") }
            var headers: [(String, String)] = []
            if case .integer(let seconds)? = json["retry_after"] { headers.append(("Retry-After", String(seconds))) }
            action = .respond(status: Int(status), body: json["body"] ?? ["title": "Sandbox fault", "status": .integer(status)], headers: headers)
        case let other:
            throw .badRequest("fault.action must be respond, expired_token, drop or delay, got \(other)")
        }
    }
}

/// The faults waiting to happen; each matching request consumes one use.
public final class FaultScript: Sendable {
    private let faults = Mutex<[SandboxFault]>([])

    public init() {}

    public func add(_ fault: SandboxFault) { faults.withLock { $0.append(fault) } }

    public func clear() { faults.withLock { $0.removeAll() } }

    func take(provider: String, method: String, path: String, token: String?) -> SandboxFault.Action? {
        faults.withLock { list in
            guard let index = list.firstIndex(where: { fault in
                fault.provider == provider && fault.times > 0
                    && (fault.pathContains.map { path.contains($0) } ?? true)
                    && (fault.method.map { $0 == method } ?? true)
                    && (fault.token.map { $0 == token } ?? true)
            }) else { return nil }
            list[index].times -= 1
            let action = list[index].action
            if list[index].times == 0 { list.remove(at: index) }
            return action
        }
    }
}
