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

    /// A `NOTIFY` payload from the PushRelay channel.
    public func handle(notification payload: String) {
        if payload == "job" {
            workBell.ring()
        } else if payload == "callback" {
            callbackBell.ring()
        } else if payload.hasPrefix("done:"), let id = UUID(uuidString: String(payload.dropFirst(5))) {
            finished(id)
        }
    }

    /// The listener (re)connected: notifications may have been missed, so everyone looks again.
    public func reconnected() {
        workBell.ring()
        callbackBell.ring()
        for bell in waiters.withLock({ Array($0.values) }) { bell.ring() }
    }
}
