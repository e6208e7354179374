import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import RelayCore

/// A provider's answer, read whole (answers are small; media goes the other way, streamed).
public struct ProviderResponse: Sendable {
    public let status: Int
    public let headers: [(String, String)]
    public let body: Data

    public var json: JSONValue? { try? JSONValue.parse(body) }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

/// Ends a try early with its outcome; thrown by `ProviderSession.call` so adapters read as straight lines.
public struct PublishStop: Error, Sendable {
    public let outcome: PublishOutcome
    public init(_ outcome: PublishOutcome) { self.outcome = outcome }
}

/// One step of an operation: a name for the attempt log, and whether a lost answer could mean it published.
public struct ProviderStep: Sendable {
    public let name: String
    /// True for the call that makes the post public: a lost answer then makes the job `indeterminate`.
    public let publishes: Bool
    /// False for answers that carry secrets (an OAuth token response): a success is then recorded without its body.
    public let recordsAnswer: Bool

    public init(_ name: String, publishes: Bool = false, recordsAnswer: Bool = true) {
        self.name = name
        self.publishes = publishes
        self.recordsAnswer = recordsAnswer
    }
}

extension ProviderSession {
    /// Sends one request to the provider, records it as an attempt, and returns the answer when the
    /// classifier calls it a success; otherwise stops the try with the classified outcome.
    public func call(
        _ step: ProviderStep, _ request: HTTPClientRequest, summary: JSONValue = [:], provider: Provider,
        timeout: Duration = .seconds(60), classify: (ProviderResponse, Date) -> ResponseClassification
    ) async throws(PublishStop) -> ProviderResponse {
        if step.publishes { try await willPublish() }
        let started = Date()
        let clock = ContinuousClock.now
        let url = Self.withoutQuery(request.url)
        do {
            // The timeout covers the answer's body too: a provider trickling it would otherwise hold the worker.
            let response = try await http.execute(request, timeout: .init(timeout))
            let body = try await response.body.collect(upTo: 4 << 20, until: clock + timeout)
            let answer = ProviderResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Data(body.readableBytesView))
            let verdict = classify(answer, Date())
            record(
                ProviderAttempt(
                    step: step.name, method: request.method.rawValue, url: url, requestSummary: summary,
                    httpStatus: answer.status, outcome: verdict.attemptOutcome,
                    responseExcerpt: step.recordsAnswer || verdict.kind != .success ? Self.excerpt(answer.body) : "(not recorded: it holds credentials)",
                    startedAt: started,
                    durationMilliseconds: Self.milliseconds(since: clock)))
            logger.debug(
                "provider call", metadata: ["step": "\(step.name)", "status": "\(answer.status)", "url": "\(url)"])
            guard verdict.kind == .success else { throw PublishStop(verdict.outcome(provider: provider)) }
            return answer
        } catch let stop as PublishStop {
            throw stop
        } catch {
            let reachedProvider = !Self.isConnectionFailure(error)
            record(
                ProviderAttempt(
                    step: step.name, method: request.method.rawValue, url: url, requestSummary: summary,
                    httpStatus: nil, outcome: reachedProvider ? .answerLost : .unreachable, responseExcerpt: nil,
                    error: "\(error)", startedAt: started, durationMilliseconds: Self.milliseconds(since: clock)))
            logger.warning(
                "provider call failed", metadata: ["step": "\(step.name)", "url": "\(url)", "error": "\(error)"])
            let name = provider.displayName
            if !reachedProvider {
                throw PublishStop(
                    .retry(
                        RelayError(status: 502, info: "\(name) could not be reached: \(Self.describe(error))"),
                        notBefore: nil, rateLimited: false))
            }
            if step.publishes {
                throw PublishStop(
                    .indeterminate(
                        RelayError(
                            status: 502,
                            info: "\(name) received the request but its answer was lost (\(Self.describe(error))); it may have been published, so it will not be retried automatically"
                        )))
            }
            throw PublishStop(
                .retry(
                    RelayError(status: 502, info: "\(name) did not answer (\(Self.describe(error)))"), notBefore: nil,
                    rateLimited: false))
        }
    }

    /// True when the error happened before any byte of the request could reach the provider.
    static func isConnectionFailure(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError {
            return error == .connectTimeout || error == .getConnectionFromPoolTimeout || error == .tlsHandshakeTimeout
                || error == .socksHandshakeTimeout || error == .httpProxyHandshakeTimeout
        }
        if error is NIOConnectionError || error is SocketAddressError { return true }
        if case ChannelError.connectTimeout = error { return true }
        if let error = error as? IOError {
            return [ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode)
        }
        return false
    }

    /// A short human description of a transport error, for error infos and logs.
    public static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .remoteConnectionClosed: return "the connection was closed before an answer"
            case .readTimeout, .deadlineExceeded: return "timed out waiting for the answer"
            case .connectTimeout: return "connection timed out"
            default: return "\(error)"
            }
        }
        if error is NIOConnectionError { return "connection refused" }
        if error is AnswerDeadlineExceeded { return "its answer had not ended when the call's time was up" }
        return "\(error)"
    }

    static func withoutQuery(_ url: String) -> String {
        String(url.prefix { $0 != "?" })
    }

    static func excerpt(_ body: Data) -> String? {
        guard !body.isEmpty else { return nil }
        let text = String(decoding: body.prefix(1000), as: UTF8.self)
        return body.count > 1000 ? text + "…" : text
    }

    public static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
