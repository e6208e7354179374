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
        /// Hold the answer until the test releases it (`FaultScript.releaseHeld(token:)`, or
        /// `POST /_sandbox/faults/release` with `{"token":"…"}`; without a token, every held answer goes),
        /// then answer normally: a call that stays in flight exactly as long as the test needs.
        case hold
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
    /// `{"provider":"x","path":"/2/tweets","token":"…","times":1,"status":503,"retry_after":2}` or `"action":"expired_token|drop|delay|hold"`.
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
        case "hold": action = .hold
        case "delay":
            guard case .integer(let ms)? = json["delay_ms"] else { throw .badRequest("fault.delay_ms is required for delay") }
            action = .delay(.milliseconds(ms))
        case "respond":
            guard case .integer(let status)? = json["status"] else { throw .badRequest("fault.status is required") }
            var headers: [(String, String)] = []
            if case .integer(let seconds)? = json["retry_after"] { headers.append(("Retry-After", String(seconds))) }
            action = .respond(status: Int(status), body: json["body"] ?? ["title": "Sandbox fault", "status": .integer(status)], headers: headers)
        case let other:
            throw .badRequest("fault.action must be respond, expired_token, drop, delay or hold, got \(other)")
        }
    }
}

/// The faults waiting to happen; each matching request consumes one use.
public final class FaultScript: Sendable {
    /// The scripted faults, and the answers held by `hold` faults until the next release.
    struct State {
        var faults: [SandboxFault] = []
        /// Bumped by each release of all: a request that matched a `hold` fault before it is not held.
        var releases = 0
        /// Bumped by each release of one bearer token's answers, the same way.
        var tokenReleases: [String: Int] = [:]
        var held: [(token: String?, answer: CheckedContinuation<Void, Never>)] = []
    }

    /// When a request matched a `hold` fault: the releases it must wait past.
    struct HoldMark {
        let releases: Int
        let token: String?
        let tokenReleases: Int
    }

    private let state = Mutex(State())

    public init() {}

    public func add(_ fault: SandboxFault) { state.withLock { $0.faults.append(fault) } }

    /// Forgets the scripted faults and releases the held answers.
    public func clear() {
        state.withLock { $0.faults.removeAll() }
        releaseHeld()
    }

    /// Lets every answer held by a `hold` fault go; returns how many were held.
    @discardableResult
    public func releaseHeld() -> Int {
        let held = state.withLock { state in
            state.releases += 1
            defer { state.held = [] }
            return state.held
        }
        for (_, answer) in held { answer.resume() }
        return held.count
    }

    /// Lets go only the held answers to requests made with this bearer token (a test's own identity), so
    /// tests running at the same time keep theirs; returns how many were held.
    @discardableResult
    public func releaseHeld(token: String) -> Int {
        let held = state.withLock { state in
            state.tokenReleases[token, default: 0] += 1
            let mine = state.held.filter { $0.token == token }
            state.held.removeAll { $0.token == token }
            return mine
        }
        for (_, answer) in held { answer.resume() }
        return held.count
    }

    /// The action of the first fault matching this request, consumed; for `hold`, the releases counted when
    /// it matched, which `hold(since:)` waits past.
    func take(provider: String, method: String, path: String, token: String?) -> (action: SandboxFault.Action, mark: HoldMark)? {
        state.withLock { state in
            guard let index = state.faults.firstIndex(where: { fault in
                fault.provider == provider && fault.times > 0
                    && (fault.pathContains.map { path.contains($0) } ?? true)
                    && (fault.method.map { $0 == method } ?? true)
                    && (fault.token.map { $0 == token } ?? true)
            }) else { return nil }
            state.faults[index].times -= 1
            let action = state.faults[index].action
            if state.faults[index].times == 0 { state.faults.remove(at: index) }
            let mark = HoldMark(releases: state.releases, token: token, tokenReleases: token.map { state.tokenReleases[$0] ?? 0 } ?? 0)
            return (action, mark)
        }
    }

    /// Returns at the first release (of all, or of this request's token) after those counted when the
    /// request matched.
    func hold(since mark: HoldMark) async {
        await withCheckedContinuation { (answer: CheckedContinuation<Void, Never>) in
            let released = state.withLock { state in
                if state.releases > mark.releases { return true }
                if let token = mark.token, (state.tokenReleases[token] ?? 0) > mark.tokenReleases { return true }
                state.held.append((mark.token, answer))
                return false
            }
            if released { answer.resume() }
        }
    }
}
