import Foundation
import RelayCore
import Synchronization

/// Routes database notifications to whoever waits in this process.
///
/// Workers wait on `workBell` (rung by `NOTIFY … 'job'`); a synchronous Push API request waits on
/// the doorbell of its event (rung by `NOTIFY … 'done:<id>'` from whichever process finished it, or
/// directly by a local worker). Nobody polls the database in a sleep loop to learn an outcome.
public final class OutcomeBroker: Sendable {
    public let workBell = Doorbell()
    /// Set when queued jobs may be waiting (a `job` notification, a reconnection, a slot freed while jobs
    /// waited): the publish worker claims only then, or when its poll interval passes. A bell rung for
    /// jobs the intake leased to it (`PublishWorker.adopt(_:)`) needs no claim.
    private let workWanted = Atomic<Bool>(true)
    /// Rung by `NOTIFY … 'callback'`: callbacks are due.
    public let callbackBell = Doorbell()
    private let waiters = Mutex<[UUID: Doorbell]>([:])

    public init() {}

    /// Registers interest in an event's outcome; call before the event can finish.
    public func register(_ eventID: UUID) -> Doorbell {
        let bell = Doorbell()
        waiters.withLock { $0[eventID] = bell }
        return bell
    }

    public func unregister(_ eventID: UUID) {
        _ = waiters.withLock { $0.removeValue(forKey: eventID) }
    }

    /// A job finished (here or in another process).
    public func finished(_ eventID: UUID) {
        waiters.withLock { $0[eventID] }?.ring()
    }

    /// There may be queued jobs to claim: wakes the publish worker to claim them.
    public func wantWork() {
        workWanted.store(true, ordering: .relaxed)
        workBell.ring()
    }

    /// Whether a claim was asked for since the last call.
    public func takeWorkWanted() -> Bool {
        workWanted.exchange(false, ordering: .relaxed)
    }

    /// A `NOTIFY` payload from the PushRelay channel.
    public func handle(notification payload: String) {
        if payload == "job" {
            wantWork()
        } else if payload == "callback" {
            callbackBell.ring()
        } else if payload.hasPrefix("done:"), let id = UUID(text: String(payload.dropFirst(5))) {
            finished(id)
        }
    }

    /// The listener (re)connected: notifications may have been missed, so everyone looks again.
    public func reconnected() {
        wantWork()
        callbackBell.ring()
        for bell in waiters.withLock({ Array($0.values) }) { bell.ring() }
    }
}
