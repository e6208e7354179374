import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RelayCore
import RelayProviders
import RelayStore
import ServiceLifecycle
import Synchronization

/// Delivers signed callbacks to subscribers (DESIGN §4): Standard Webhooks headers with a `webhook-id`
/// stable across tries, any 2xx is delivered, 410 Gone disables the subscription, anything else is tried
/// again on `PUSHRELAY_CALLBACK_RETRY_SCHEDULE` (±20 % jitter) and then marked `dead`.
///
/// Each delivery runs in its own task, so one slow or failing subscriber never delays the others.
public final class CallbackWorker: Service, Sendable {
    let store: Store
    let http: HTTPClient
    let policy: AddressPolicy
    /// Deliveries to a host whose addresses the policy checked go to the address it approved.
    let pinned = PinnedClients()
    let broker: OutcomeBroker
    let schedule: [Int]
    /// Signs the callback_url of publish-requested webhooks: the secret their sender holds.
    let webhookSecret: String?
    let concurrency: Int
    let pollInterval: Duration
    /// A delivery's deadline, its answer's body included (`Configuration.callbackTimeout`).
    let timeout: Duration
    let logger: Logger
    let owner = "callbacks:\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
    /// The records of deliveries that end together share one CALL.
    let records: GroupCommit<RecordedDelivery, Void>
    private let inFlight = Atomic<Int>(0)
    /// True while callbacks may be waiting for a free slot (the last claim took all it asked for, or the
    /// worker was woken with every slot busy).
    private let backlog = Atomic<Bool>(false)

    public init(store: Store, http: HTTPClient, broker: OutcomeBroker, configuration: Configuration, logger: Logger) {
        self.store = store
        self.http = http
        self.policy = AddressPolicy(allowPrivate: configuration.mediaAllowPrivate)
        self.broker = broker
        self.schedule = configuration.callbackRetrySchedule
        self.webhookSecret = configuration.webhookSecrets.first
        self.concurrency = max(4, configuration.workers)
        self.pollInterval = configuration.pollInterval
        self.timeout = configuration.callbackTimeout
        self.logger = logger
        self.records = GroupCommit(maximumBatch: 64) { deliveries in try await store.callbacks.record(deliveries) }
    }

    public func run() async throws {
        // When the clear secrets of subscriptions inserted with SQL were last looked for: once a poll
        // interval, not at every wake-up.
        var lastSealed: ContinuousClock.Instant?
        await withDiscardingTaskGroup { group in
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                let free = concurrency - inFlight.load(ordering: .relaxed)
                var claimedAll = false
                if free > 0 {
                    do {
                        let due = try await store.callbacks.claim(owner: owner, limit: free, lease: .seconds(60), webhookSecret: webhookSecret)
                        for callback in due {
                            inFlight.add(1, ordering: .relaxed)
                            group.addTask {
                                await self.deliver(callback)
                                self.inFlight.subtract(1, ordering: .relaxed)
                                // A freed slot matters only if callbacks may be waiting for one.
                                if self.backlog.load(ordering: .relaxed) { self.broker.callbackBell.ring() }
                            }
                        }
                        claimedAll = due.count == free
                        backlog.store(claimedAll, ordering: .relaxed)
                    } catch {
                        // A CancellationError is the process stopping, not a failure.
                        if !(error is CancellationError) {
                            logger.warning("could not claim callbacks", metadata: ["error": "\(String(reflecting: error))"])
                        }
                    }
                } else {
                    // Woken with every slot busy: the next delivery to end claims again.
                    backlog.store(true, ordering: .relaxed)
                }
                if claimedAll { continue }
                if lastSealed.map({ ContinuousClock.now - $0 >= pollInterval }) ?? true {
                    lastSealed = .now
                    do {
                        // Subscriptions an admin inserted with SQL carry their secret in clear until this pass.
                        try await store.subscriptions.sealPlaintextSecrets()
                    } catch {
                        // A CancellationError is the process stopping, not a failure.
                        if !(error is CancellationError) {
                            logger.warning("could not encrypt subscription secrets", metadata: ["error": "\(String(reflecting: error))"])
                        }
                    }
                }
                await broker.callbackBell.wait(upTo: pollInterval)
            }
        }
        await pinned.shutdown()
    }

    /// One try: sign, POST, record, decide what comes next.
    func deliver(_ callback: ClaimedCallback) async {
        let started = Date()
        let clock = ContinuousClock.now
        let deadline = clock + timeout
        var status: Int?
        var failure: String?
        var excerpt: String?
        // A URL that is not allowed stays not allowed, a callback without a secret stays unsignable: no retry.
        var undeliverable = false
        do {
            guard let url = URL(string: callback.url) else { throw RelayError.badRequest("\(callback.url) is not a URL") }
            let address: String?
            do { address = try await policy.approvedAddress(url, field: "callback URL") } catch {
                undeliverable = true
                throw error
            }
            guard let secret = callback.secret else {
                undeliverable = true
                throw RelayError.unavailable("No secret to sign this callback with: set PUSHRELAY_WEBHOOK_SECRET")
            }
            let timestamp = Int(Date().timeIntervalSince1970)
            let webhookID = "msg_\(callback.id.lowercasedString)"
            let body = Data(callback.payload.utf8)
            var request = HTTPClientRequest(url: callback.url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "PushRelay callbacks")
            request.headers.add(name: "webhook-id", value: webhookID)
            request.headers.add(name: "webhook-timestamp", value: String(timestamp))
            request.headers.add(
                name: "webhook-signature", value: StandardWebhooks(secrets: [secret]).signature(id: webhookID, timestamp: timestamp, body: body))
            request.body = .bytes(ByteBuffer(bytes: body))
            // To the address just approved: the name is not resolved again to connect (DNS rebinding).
            let pin = address.flatMap { address in url.host.map { pinned.lease(host: $0, address: address) } }
            defer { pin?.release() }
            let response = try await (pin?.client ?? http).execute(request, timeout: .init(timeout))
            status = Int(response.status.code)
            let answer = try await response.body.collect(upTo: 64 << 10, until: deadline)
            excerpt = String(buffer: answer).prefix(500).description
        } catch let error as RelayError {
            failure = error.info
        } catch is AnswerDeadlineExceeded {
            failure = "the subscriber's answer did not end within the delivery's time"
        } catch {
            failure = ProviderSession.describe(error)
        }
        let delivered = status.map { (200..<300).contains($0) } ?? false
        let refusedForGood = undeliverable || status == 410
        let next: CallbackDelivery.Next
        if delivered {
            next = .delivered
        } else if refusedForGood || callback.attempt >= schedule.count {
            next = .dead
        } else {
            let wait = Double(schedule[callback.attempt]) * Double.random(in: 0.8...1.2)
            next = .retry(at: Date().addingTimeInterval(wait))
        }
        let delivery = CallbackDelivery(
            httpStatus: status, error: failure, responseExcerpt: excerpt, startedAt: started,
            durationMilliseconds: ProviderSession.milliseconds(since: clock),
            next: next, disablesSubscription: status == 410 && callback.subscriptionID != nil)
        EngineMetrics.callbackDelivery(next)
        do {
            try await records.submit(RecordedDelivery(callbackID: callback.id, owner: owner, attempt: callback.attempt, delivery: delivery))
        } catch {
            logger.warning("could not record a callback delivery", metadata: ["error": "\(String(reflecting: error))"])
        }
        logger.info(
            delivered ? "callback delivered" : "callback not delivered",
            metadata: ["webhook_id": "msg_\(callback.id.lowercasedString)", "status": "\(status.map(String.init) ?? failure ?? "")"])
    }
}
