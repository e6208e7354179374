import Crypto
import Foundation
import Logging
import RelayCore
import RelayProviders
import RelayStore
import ServiceLifecycle

/// Accepts publish requests from the Push API and the publish-requested webhook, the same way.
///
/// Validates the body for its route, checks the identity, makes the request durable (event + job,
/// committed together with the requests that arrived meanwhile, workers notified) and, for
/// synchronous requests, waits for the outcome on a doorbell rung by the worker that finishes it —
/// up to `PUSHRELAY_SYNC_TIMEOUT`, after which it answers 202.
public struct PublishIntake: Sendable {
    /// How the caller wants its answer.
    public enum Mode: Sendable {
        /// Return as soon as the request is durable.
        case queue
        /// Wait up to the sync timeout for the outcome.
        case wait
    }

    /// Where a request stands when the intake answers.
    public struct Accepted: Sendable {
        public let status: EventStatus
        public let route: MatchedOperation
        /// True when the idempotency key or webhook-id was seen before and nothing new was created.
        public let isReplay: Bool
    }

    let store: Store
    /// Group commit: concurrent requests share one insert and one commit.
    let batcher: PublishBatcher
    let broker: OutcomeBroker
    let syncTimeout: Duration
    let logger: Logger

    /// Checks `callback_url`s when they are given (DESIGN §4: a refused address is a 400, never called).
    let callbackPolicy: AddressPolicy

    /// `localWorker` is this process's publish worker, if it runs one: the batch insert leases to it the
    /// jobs it has room for, which then start without a claim (migration 0010).
    public init(
        store: Store, broker: OutcomeBroker, syncTimeout: Duration, callbackPolicy: AddressPolicy, localWorker: PublishWorker? = nil,
        logger: Logger
    ) {
        self.store = store
        self.batcher = PublishBatcher(maximumBatch: 256) { publishes in
            guard let localWorker, let lease = localWorker.reserve(upTo: publishes.count) else {
                return try await store.events.enqueue(publishes)
            }
            do {
                let (results, leased) = try await store.events.enqueue(publishes, leasingTo: lease)
                localWorker.release(lease.limit - leased.count)
                localWorker.adopt(leased)
                return results
            } catch {
                // Nothing committed, or (a lost connection) maybe: the jobs it may have leased to the worker are
                // queued again for any worker as soon as PostgreSQL answers.
                localWorker.release(lease.limit)
                let events = publishes.map(\.eventID)
                Task { await localWorker.giveBack(events) }
                throw error
            }
        }
        self.broker = broker
        self.syncTimeout = syncTimeout
        self.callbackPolicy = callbackPolicy
        self.logger = logger
    }

    /// Matches a path relative to the identity (`twitter/post`) or throws the 404 a client should see.
    public static func route(_ path: String) throws(RelayError) -> MatchedOperation {
        guard let route = MatchedOperation.match(path) else {
            throw .notFound("Unknown Push API route \(RelayError.excerpt(path)).json; see https://docs.oneall.com/api/resources/push/ for the routes")
        }
        return route
    }

    public func accept(
        route: MatchedOperation, body: JSONValue, identityToken: String, apiKeyID: Int64?, idempotencyKey: String?,
        source: String, mode requestedMode: Mode?
    ) async throws -> Accepted {
        let request = try PushRequestParser.parse(body, route: route)
        if let notice = route.operation.removalNotice { throw RelayError.conflict(notice) }
        if let callbackURL = request.callbackURL, let url = URL(string: callbackURL) {
            try await callbackPolicy.check(url, field: "callback_url")
        }
        // The identity itself is checked by the batch insert (`IdentityNotStanding`): no read before it.
        guard let token = UUID(text: identityToken) else { throw RelayError.notFound("Unknown identity_token \(RelayError.excerpt(identityToken))") }
        var mode = requestedMode ?? (route.operation.isAsynchronousByDefault ? .queue : .wait)
        if request.scheduledAt.map({ $0 > Date() }) == true { mode = .queue }

        let eventID = UUID.random()
        let serializedBody = body.serialized()
        let hash = Data(SHA256.hash(data: Data((route.path + "\n" + serializedBody).utf8)))
        // Registered before the insert: the job cannot finish before someone listens for it.
        var bell = mode == .wait ? broker.register(eventID) : nil
        defer { broker.unregister(eventID) }
        let publish = NewPublish(
            eventID: eventID, request: request, identityToken: token, source: source, idempotencyKey: idempotencyKey,
            requestHash: hash, apiKeyID: apiKeyID, body: body, serializedBody: serializedBody)
        let recorded: RecordedEvent
        do {
            recorded = try await batcher.submit(publish)
        } catch let refusal as IdentityNotStanding {
            throw Self.error(refusal, identityToken: identityToken, route: route)
        }
        guard case .existing(let id, let sameRequest) = recorded else {
            // Committed: from here on the answer is an acknowledgement, whatever the database does next.
            // (Debug: the request's own log line, at info, carries its event id.)
            logger.debug(
                "accepted publish request",
                metadata: ["event_id": "\(eventID.lowercasedString)", "path": "\(route.path)", "source": "\(source)"])
            let accepted = EventStatus.accepted(publish, state: publish.initialState)
            guard let bell else { return Accepted(status: accepted, route: route, isReplay: false) }
            do {
                return Accepted(status: try await waitForOutcome(eventID, bell: bell, checkFirst: false), route: route, isReplay: false)
            } catch {
                logger.warning(
                    "could not read the outcome of an accepted request; answering 202",
                    metadata: ["event_id": "\(eventID.lowercasedString)", "error": "\(String(reflecting: error))"])
                return Accepted(status: accepted, route: route, isReplay: false)
            }
        }
        guard sameRequest else {
            throw RelayError.unprocessable("This idempotency key was already used for a different request")
        }
        if mode == .wait { bell = broker.register(id) }
        defer { broker.unregister(id) }
        logger.info(
            "replayed publish request",
            metadata: ["event_id": "\(id.lowercasedString)", "path": "\(route.path)", "source": "\(source)"])
        let status = if let bell { try await waitForOutcome(id, bell: bell, checkFirst: true) } else { try await load(id) }
        return Accepted(status: status, route: route, isReplay: true)
    }

    /// The OneAll error for a request whose identity cannot publish on its route.
    static func error(_ refusal: IdentityNotStanding, identityToken: String, route: MatchedOperation) -> RelayError {
        guard let standing = refusal.standing else { return .notFound("Unknown identity_token \(RelayError.excerpt(identityToken))") }
        guard standing.provider == route.operation.provider else {
            return .notFound(
                "The identity \(identityToken) is connected to \(standing.provider.displayName), not \(route.operation.provider.displayName)")
        }
        return .forbidden(
            "The identity \(identityToken) must be reconnected: \(standing.provider.displayName) refused its token; send a new identity-connected webhook")
    }

    /// The event's status, waiting up to `timeout` for its job to become final (long-poll of the status route).
    public func status(_ eventID: UUID, waitingUpTo timeout: Duration) async throws -> EventStatus? {
        let bell = broker.register(eventID)
        defer { broker.unregister(eventID) }
        guard let status = try await store.events.status(eventID) else { return nil }
        guard status.kind == "publish.requested", !(status.state?.isFinal ?? true), timeout > .zero else { return status }
        logger.debug("waiting for an outcome", metadata: ["event_id": "\(eventID.lowercasedString)", "up_to": "\(timeout)"])
        return try await waitForOutcome(eventID, bell: bell, checkFirst: false, timeout: timeout)
    }

    /// Waits on the event's doorbell until its job is final or the sync timeout passes. When the process begins
    /// to stop, the wait ends at once with the event's state as it is (a long poll of 60 s must not hold the
    /// shutdown past an orchestrator's grace period, after which the jobs in flight would be killed).
    func waitForOutcome(_ eventID: UUID, bell: Doorbell, checkFirst: Bool, timeout: Duration? = nil) async throws -> EventStatus {
        let deadline = ContinuousClock.now + (timeout ?? syncTimeout)
        if checkFirst {
            let status = try await load(eventID)
            if status.state?.isFinal ?? true { return status }
        }
        while true {
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero || Task.isShuttingDownGracefully { return try await load(eventID) }
            await withGracefulShutdownHandler {
                _ = await bell.wait(upTo: remaining)
            } onGracefulShutdown: {
                bell.ring()
            }
            if let state = try await store.jobs.state(eventID), state.isFinal {
                return try await load(eventID)
            }
        }
    }

    func load(_ eventID: UUID) async throws -> EventStatus {
        guard let status = try await store.events.status(eventID) else {
            throw RelayError.internalError("event \(eventID) vanished")
        }
        return status
    }
}
