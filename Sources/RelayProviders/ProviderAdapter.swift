import AsyncHTTPClient
import Foundation
import Logging
import RelayCore

/// What an adapter is given for one try of one publish job.
public struct PublishJob: Sendable {
    public let eventID: UUID
    public let route: MatchedOperation
    public let content: PublishContent
    public let credentials: Credentials
    /// Intermediate ids an earlier try saved (`ProviderSession.checkpoint`), to resume instead of starting over.
    public let progress: JSONValue
    /// The user's id at the provider (LinkedIn builds the author URN from it).
    public let providerUserID: String
    /// The identity's pages, organizations, channels and boards, with their tokens.
    public let accounts: [PublishAccount]

    public init(
        eventID: UUID, route: MatchedOperation, content: PublishContent, credentials: Credentials, progress: JSONValue,
        providerUserID: String = "", accounts: [PublishAccount] = []
    ) {
        self.eventID = eventID
        self.route = route
        self.content = content
        self.credentials = credentials
        self.progress = progress
        self.providerUserID = providerUserID
        self.accounts = accounts
    }
}

/// Publishes to one provider's real API.
///
/// One adapter per provider behind this protocol; what they share (recording each call, classifying
/// transport failures, fetching media) lives in `ProviderSession`, `ProviderCall` and `MediaFetcher`.
public protocol ProviderAdapter: Sendable {
    var provider: Provider { get }
    /// Tries the job once. Never throws: every way it can end is a `PublishOutcome`.
    func publish(_ job: PublishJob, session: ProviderSession) async -> PublishOutcome
}

/// Everything an adapter may use during one try: the HTTP client, the media fetcher, the attempt log.
public final class ProviderSession: Sendable {
    public let http: HTTPClient
    public let media: MediaFetcher
    public let logger: Logger
    private let log = AttemptLog()
    private let saveProgress: @Sendable (JSONValue, [ProviderAttempt]) async throws -> Void
    private let saveAccount: @Sendable (PublishAccount) async throws -> Void
    private let markPublishing: @Sendable () async throws -> Void

    /// `markPublishing` durably records that the call that publishes is about to be sent (the lease
    /// rescuer reads it); `saveAccount` keeps an account token an adapter looked up.
    public init(
        http: HTTPClient, media: MediaFetcher, logger: Logger,
        saveProgress: @escaping @Sendable (JSONValue, [ProviderAttempt]) async throws -> Void,
        saveAccount: @escaping @Sendable (PublishAccount) async throws -> Void = { _ in },
        markPublishing: @escaping @Sendable () async throws -> Void = {}
    ) {
        self.http = http
        self.media = media
        self.logger = logger
        self.saveProgress = saveProgress
        self.saveAccount = saveAccount
        self.markPublishing = markPublishing
    }

    /// Called by `call` before a step that publishes; the call is not made if this fails.
    func willPublish() async throws(PublishStop) {
        do { try await markPublishing() } catch {
            throw PublishStop(
                .retry(RelayError(status: 503, info: "could not record the publishing call before making it: \(error)"), notBefore: nil, rateLimited: false))
        }
    }

    /// Keeps an account token the adapter looked up (a Facebook page token), encrypted, so the next job has it.
    public func store(_ account: PublishAccount) async throws {
        try await saveAccount(account)
    }

    /// Records a provider call (written with the job's next checkpoint or outcome).
    public func record(_ attempt: ProviderAttempt) { log.append(attempt) }

    /// The calls recorded and not yet saved.
    public func takeAttempts() -> [ProviderAttempt] { log.take() }

    /// Saves intermediate provider ids durably before going on, so a retry or restart resumes from here.
    /// If they cannot be saved the try stops (to be retried): going on would upload again after a restart.
    public func checkpoint(_ progress: JSONValue) async throws(PublishStop) {
        do { try await saveProgress(progress, log.take()) } catch {
            throw PublishStop(.retry(RelayError(status: 503, info: "could not save upload progress: \(error)"), notBefore: nil, rateLimited: false))
        }
    }
}

import Synchronization

/// The provider calls of one try, in order.
final class AttemptLog: Sendable {
    private let attempts = Mutex<[ProviderAttempt]>([])
    func append(_ attempt: ProviderAttempt) { attempts.withLock { $0.append(attempt) } }
    func take() -> [ProviderAttempt] {
        attempts.withLock { list in
            defer { list.removeAll() }
            return list
        }
    }
}
