import AsyncHTTPClient
import Foundation
import Logging
import RelayCore
import RelayProviders
import RelayStore
import ServiceLifecycle
import Synchronization

/// The relay engine's publishing side: claims jobs from PostgreSQL and runs them through the adapters.
///
/// One claim loop per process leases as many jobs as it has free slots (`PUSHRELAY_WORKERS`) in one
/// query when jobs may be waiting (a `NOTIFY`, via `OutcomeBroker.wantWork()`), and polls as a fallback.
/// Jobs accepted by this process's own intake while it has room come leased already, by the batch insert
/// (`reserve(upTo:)`, `adopt(_:)`): they start without a claim. On graceful shutdown it stops claiming
/// and lets in-flight jobs finish.
public final class PublishWorker: Service, Sendable {
    let store: Store
    let adapters: [Provider: any ProviderAdapter]
    let http: HTTPClient
    let media: MediaFetcher
    let refresher: TokenRefresher
    let broker: OutcomeBroker
    let policy: RetryPolicy
    let concurrency: Int
    let lease: Duration
    let pollInterval: Duration
    let logger: Logger
    /// Identifies this process's leases in `publish_jobs.lease_owner`.
    public let owner: String
    /// The marks before publishing calls (all this process's, under its `owner`) and the ends of tries that
    /// wait together share one CALL and one commit (`JobQueue.write(_:owner:)`).
    let writes: GroupCommit<WorkerWrite, Bool>
    /// Slots taken: jobs from their claim (or their lease by the intake) to the end of their provider calls.
    /// A job whose calls are over writes the end of its try without a slot.
    private let inFlight = Atomic<Int>(0)
    /// The jobs this worker is running: the heartbeat renews their leases, and no other.
    private let running = Mutex<Set<UUID>>([])
    private let stopping = Atomic<Bool>(false)
    /// Jobs the intake of this process leased to this worker in its batch insert, waiting for the claim loop.
    private let adopted = Mutex<[ClaimedJob]>([])
    /// Jobs leased to this worker's owner that it did not know at the last heartbeat (`releaseStrays()`).
    private let suspects = Mutex<[UUID]>([])
    /// True while queued jobs may be waiting for a free slot (the last claim took all it asked for, or a
    /// claim was asked for while every slot was busy): a job that ends then asks for a claim.
    private let backlog = Atomic<Bool>(false)

    public init(
        store: Store, adapters: [Provider: any ProviderAdapter], http: HTTPClient, media: MediaFetcher,
        broker: OutcomeBroker, configuration: Configuration, logger: Logger
    ) {
        self.store = store
        self.adapters = adapters
        self.http = http
        self.media = media
        self.refresher = TokenRefresher(configuration: configuration)
        self.broker = broker
        self.policy = RetryPolicy(maxAttempts: configuration.publishMaxAttempts)
        self.concurrency = configuration.workers
        self.lease = configuration.leaseDuration
        self.pollInterval = configuration.pollInterval
        self.logger = logger
        let owner = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
        self.owner = owner
        self.writes = GroupCommit(maximumBatch: 64) { writes in try await store.jobs.write(writes, owner: owner) }
    }

    public func run() async throws {
        logger.info("publish worker started", metadata: ["owner": "\(owner)", "workers": "\(concurrency)"])
        let heartbeat = Task { await self.heartbeat() }
        defer { heartbeat.cancel() }
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var claimDue = true
                // Jobs whose time comes (scheduled, retried later) notify nobody: a claim at least once a poll
                // interval finds them, however often the bell rings for other reasons.
                var polled = ContinuousClock.now
                while !stopping.load(ordering: .relaxed) && !Task.isCancelled {
                    startAdopted(in: &group)
                    if broker.takeWorkWanted() || ContinuousClock.now - polled >= pollInterval { claimDue = true }
                    if claimDue { polled = .now }
                    // The slots are taken before the claim is asked for: the intake's leases (`reserve(upTo:)`)
                    // share them, and must not be granted the same slots while the claim runs.
                    let free = claimDue ? takeSlots(upTo: concurrency) : 0
                    if claimDue && free == 0 {
                        // Full: the next slot to free up asks for the claim (`slotFreed()`).
                        backlog.store(true, ordering: .relaxed)
                        claimDue = false
                    } else if claimDue {
                        do {
                            let jobs = try await store.jobs.claim(owner: owner, limit: free, lease: lease)
                            inFlight.subtract(free - jobs.count, ordering: .relaxed)
                            for job in jobs {
                                group.addTask { await self.process(job) { self.freeSlot() } }
                            }
                            // All it could take: more may be waiting, claim again at once (and when slots free up).
                            claimDue = jobs.count == free
                            backlog.store(claimDue, ordering: .relaxed)
                        } catch {
                            inFlight.subtract(free, ordering: .relaxed)
                            // A CancellationError is the process stopping, not a failure.
                            if !(error is CancellationError) {
                                logger.warning("could not claim jobs", metadata: ["error": "\(String(reflecting: error))"])
                            }
                            claimDue = false
                        }
                        if claimDue { continue }
                    }
                    // Rung by a notification, a freed slot wanted by waiting jobs, or adopted jobs; or the poll.
                    await broker.workBell.wait(upTo: max(.milliseconds(1), pollInterval - (ContinuousClock.now - polled)))
                }
                // Leased by a batch insert that committed as shutdown began: run them too.
                startAdopted(in: &group)
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.broker.workBell.ring()
            self.logger.info(
                "publish worker stopping: no new claims; the jobs in flight finish",
                metadata: ["owner": "\(self.owner)", "running": "\(self.running.withLock { $0.count })"])
        }
        logger.info("publish worker stopped", metadata: ["owner": "\(owner)"])
    }

    // MARK: Jobs leased by the intake of this process

    /// Takes up to `count` free slots for jobs the intake is about to lease to this worker in its batch
    /// insert (`LocalLease`); none while shutting down. Slots not used go back with `release(_:)`.
    public func reserve(upTo count: Int) -> LocalLease? {
        guard !stopping.load(ordering: .relaxed) else { return nil }
        let granted = takeSlots(upTo: count)
        guard granted > 0 else { return nil }
        return LocalLease(owner: owner, seconds: Double(lease.components.seconds), limit: granted)
    }

    /// Takes up to `count` of the free slots, atomically: the claim loop and the intake's leases both take
    /// theirs before they ask PostgreSQL for jobs, so together they never run more than `concurrency`.
    private func takeSlots(upTo count: Int) -> Int {
        var current = inFlight.load(ordering: .relaxed)
        while true {
            let granted = min(count, concurrency - current)
            guard granted > 0 else { return 0 }
            let (exchanged, original) = inFlight.compareExchange(
                expected: current, desired: current + granted, ordering: .relaxed)
            if exchanged { return granted }
            current = original
        }
    }

    /// Starts the jobs `adopt(_:)` handed over; their slots were reserved by `reserve(upTo:)`.
    private func startAdopted(in group: inout DiscardingTaskGroup) {
        for job in adopted.withLock({ jobs in defer { jobs = [] }; return jobs }) {
            group.addTask { await self.process(job) { self.freeSlot() } }
        }
    }

    /// A job's provider calls are over: its slot goes to the next job while its end is written.
    private func freeSlot() {
        inFlight.subtract(1, ordering: .relaxed)
        slotFreed()
    }

    /// A slot came free: if jobs may be waiting for one, ask for a claim.
    private func slotFreed() {
        if backlog.load(ordering: .relaxed) { broker.wantWork() }
    }

    /// Gives back reserved slots the batch insert did not use.
    public func release(_ count: Int) {
        guard count > 0 else { return }
        inFlight.subtract(count, ordering: .relaxed)
        slotFreed()
    }

    /// Runs jobs the batch insert leased to this worker (their slots reserved by `reserve(upTo:)`).
    public func adopt(_ jobs: [ClaimedJob]) {
        guard !jobs.isEmpty else { return }
        adopted.withLock { $0.append(contentsOf: jobs) }
        broker.workBell.ring()
    }

    /// Gives back the leases a batch insert may have written for this worker when its answer never came
    /// (a connection lost after the commit, say): `adopt(_:)` never received those jobs, and without this
    /// they would wait for their lease (`PUSHRELAY_LEASE_SECONDS`) to run out before the rescuer queued them
    /// again. Tries until PostgreSQL answers, or until the lease has run out anyway.
    public func giveBack(_ events: [UUID]) async {
        let deadline = ContinuousClock.now + lease
        var pause = Duration.milliseconds(100)
        while ContinuousClock.now < deadline {
            do {
                let count = try await store.jobs.requeueUnreceived(events, owner: owner)
                if count > 0 {
                    logger.warning(
                        "queued again jobs leased to this worker by a batch insert whose answer was lost",
                        metadata: ["jobs": "\(count)"])
                }
                return
            } catch {
                logger.warning(
                    "could not give back the leases of a failed batch insert; trying again",
                    metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(5))
            }
        }
    }

    /// Every third of the lease, until cancelled (when the claim loop and its in-flight jobs are done):
    /// renews the leases of the jobs this worker runs, then gives back the ones leased to it that it never
    /// received (`releaseStrays()`: unknown to it at two heartbeats in a row).
    func heartbeat() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: lease / 3)
            guard !Task.isCancelled else { continue }
            do {
                try await renewLeases()
            } catch {
                logger.warning("could not renew leases", metadata: ["error": "\(String(reflecting: error))"])
            }
            do {
                let strays = try await releaseStrays()
                if strays > 0 {
                    logger.warning(
                        "queued again jobs leased to this worker that it never received (a claim's answer lost?)",
                        metadata: ["jobs": "\(strays)"])
                }
            } catch {
                logger.warning("could not look for jobs leased to this worker that it never received", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }

    /// Queues again the jobs leased to this worker's owner that it neither runs nor holds for starting,
    /// and did not at the last heartbeat either, if their publishing call was never marked: a claim whose
    /// answer was lost after its commit leased them, and they would otherwise wait for their lease to run
    /// out (`JobQueue.requeueUnreceived`). A job just claimed or handed over reaches the running set long
    /// before the next heartbeat, so it is never taken for a stray.
    @discardableResult
    public func releaseStrays() async throws -> Int {
        let known = running.withLock { Array($0) } + adopted.withLock { $0.map(\.eventID) }
        let released = try await store.jobs.requeueUnreceived(suspects.withLock { $0 }, owner: owner, except: known)
        let next = try await store.jobs.unreceived(owner: owner, except: known)
        suspects.withLock { $0 = next }
        return released
    }

    /// Renews the leases of the jobs this worker is running, and of no other job leased under its owner
    /// (`JobQueue.renewLeases(owner:events:lease:)`); returns how many were renewed.
    @discardableResult
    public func renewLeases() async throws -> Int {
        let events = running.withLock { Array($0) }
        guard !events.isEmpty else { return 0 }
        return try await store.jobs.renewLeases(owner: owner, events: events, lease: lease)
    }

    /// Runs one try of one job and records how it ended. `callsEnded` is called once the provider calls are
    /// over, before the end is recorded: the slot goes to the next job, whose claim and mark then share a
    /// group commit with this end instead of waiting for it.
    func process(_ job: ClaimedJob, callsEnded: () -> Void) async {
        running.withLock { _ = $0.insert(job.eventID) }
        defer { running.withLock { _ = $0.remove(job.eventID) } }
        var logger = self.logger
        logger[metadataKey: "event_id"] = "\(job.eventID.lowercasedString)"
        logger[metadataKey: "path"] = "\(job.route.path)"
        let provider = job.route.operation.provider
        let outcome: PublishOutcome
        var attempts: [ProviderAttempt] = []
        // The identity's tokens as stored, which this try last read or wrote (see `ClaimedJob.sealedCredentials`).
        var storedTokens = job.sealedCredentials
        if let problem = job.unopenedTokens {
            outcome = .failed(RelayError(status: 500, info: "The identity's stored tokens cannot be opened: \(problem)"))
        } else if job.identityState == "disconnected" || job.credentials == nil {
            outcome = .failed(.notFound("The identity was disconnected before the request could be published"))
        } else if job.identityState == "needs_reconnect" {
            outcome = .failed(.forbidden("The identity must be reconnected: \(provider.displayName) refused its token"))
        } else if let adapter = adapters[provider] {
            let eventID = job.eventID
            let owner = self.owner
            let store = self.store
            let identityToken = job.identityToken
            let session = ProviderSession(
                http: http, media: media, logger: logger,
                saveProgress: { progress, attempts in
                    try await store.jobs.saveProgress(eventID, owner: owner, tryNumber: job.tryNumber, progress: progress, attempts: attempts)
                },
                saveAccount: { account in try await store.identities.storeAccount(identityToken, account) },
                markPublishing: { [writes] in
                    guard try await writes.submit(.mark(eventID)) else {
                        throw DatabaseError("the lease on job \(eventID) was lost; the publishing call is not made")
                    }
                })
            outcome = await publishRefreshingOnce(
                job, credentials: job.credentials!, storedTokens: &storedTokens, adapter: adapter, session: session, logger: logger)
            attempts = session.takeAttempts()
        } else {
            outcome = .failed(.notFound("\(provider.displayName) publishing is not available in this version of PushRelay"))
        }

        if case .tokenRejected = outcome {
            do {
                try await store.identities.markNeedsReconnect(job.identityToken, during: job.eventID, tokens: storedTokens)
            } catch {
                logger.error("could not mark the identity needs_reconnect", metadata: ["error": "\(error)"])
            }
        }
        let transition = policy.transition(after: outcome, tryNumber: job.tryNumber, now: Date(), jitter: Double.random(in: 0...1))
        // Counted before the outcome is written: whoever sees the outcome sees it counted.
        EngineMetrics.providerCalls(attempts, provider: provider)
        EngineMetrics.tryEnded(provider: provider, transition: transition)
        callsEnded()
        await record(job, transition: transition, attempts: attempts, logger: logger)
        broker.finished(job.eventID)
    }

    /// Publishes with the identity's token, refreshing it once when it is known to have expired or the
    /// provider rejects it (DESIGN §5); the refreshed tokens are stored before they are used, unless the user
    /// reconnected meanwhile (then the new connection's tokens stay, and this call uses the refreshed ones).
    /// `storedTokens` follows what is stored: the tokens as claimed, then as refreshed.
    func publishRefreshingOnce(
        _ job: ClaimedJob, credentials: Credentials, storedTokens: inout Data?, adapter: any ProviderAdapter, session: ProviderSession,
        logger: Logger
    ) async -> PublishOutcome {
        let provider = job.route.operation.provider
        func publish(_ credentials: Credentials) async -> PublishOutcome {
            await adapter.publish(
                PublishJob(
                    eventID: job.eventID, route: job.route, content: job.content, credentials: credentials, progress: job.progress,
                    providerUserID: job.providerUserID, accounts: job.accounts),
                session: session)
        }
        func refresh() async throws(PublishStop) -> Credentials {
            let refreshed = try await refresher.refresh(provider, credentials, session: session)
            let stored: Data?
            do {
                stored = try await store.identities.storeRefreshedCredentials(
                    job.identityToken, refreshed.credentials, expiresAt: refreshed.expiresAt, replacing: storedTokens)
            } catch {
                // The provider may have spent the old refresh token: without the new one stored, do not go on.
                throw PublishStop(.retry(RelayError(status: 503, info: "could not store the refreshed token: \(error)"), notBefore: nil, rateLimited: false))
            }
            if let stored {
                storedTokens = stored
                logger.info("refreshed the access token", metadata: ["identity_token": "\(job.identityToken.lowercasedString)"])
            } else {
                logger.notice(
                    "refreshed the access token, not stored: the identity was reconnected or disconnected meanwhile",
                    metadata: ["identity_token": "\(job.identityToken.lowercasedString)"])
            }
            return refreshed.credentials
        }
        let obstacle = refresher.obstacle(provider, credentials)
        do {
            if obstacle == nil, let expiry = job.tokenExpiresAt, expiry <= Date().addingTimeInterval(60) {
                return await publish(try await refresh())
            }
            let outcome = await publish(credentials)
            guard case .tokenRejected(let rejection) = outcome else { return outcome }
            if let obstacle {
                return .tokenRejected(RelayError(status: rejection.status, info: "\(rejection.info); the token cannot be refreshed: \(obstacle)"))
            }
            return await publish(try await refresh())
        } catch {
            return error.outcome
        }
    }

    /// Writes the end of a try, retrying while the database is unreachable: an outcome the provider
    /// already acted on must not be lost, or the job would be tried again.
    func record(_ job: ClaimedJob, transition: JobTransition, attempts: [ProviderAttempt], logger: Logger) async {
        var delay: Duration = .milliseconds(100)
        let deadline = ContinuousClock.now + lease
        while true {
            do {
                let finished = FinishedTry(
                    eventID: job.eventID, owner: owner, tryNumber: job.tryNumber, transition: transition, attempts: attempts)
                let held = try await writes.submit(.finish(finished))
                if !held { logger.warning("the job's lease was lost before its outcome could be recorded") }
                switch transition {
                case .succeeded: logger.info("published")
                case .failed(let error): logger.notice("publish failed", metadata: ["status": "\(error.status)", "info": "\(error.info)"])
                case .indeterminate(let error): logger.warning("publish indeterminate", metadata: ["info": "\(error.info)"])
                case .requeue(let runAt, let error, _):
                    logger.notice("publish will be retried", metadata: ["run_at": "\(RFC3339.format(runAt))", "info": "\(error.info)"])
                }
                return
            } catch {
                guard ContinuousClock.now < deadline else {
                    logger.error("gave up recording a job outcome", metadata: ["error": "\(String(reflecting: error))"])
                    return
                }
                logger.warning("could not record a job outcome; retrying", metadata: ["error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
