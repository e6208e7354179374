import Synchronization

/// Wakes one waiting task, or remembers that it was rung if nobody was waiting yet.
///
/// The engine's claim loop waits on one (rung by `NOTIFY` and by finished jobs) and every synchronous
/// Push API request waits on one for its outcome, each with a deadline, so nothing ever sleeps in a
/// loop to find out whether something happened.
public final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes the waiter, or the next one to wait.
    public func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when rung (at once if it was rung since the last wait), after `timeout`, or on cancellation.
    /// Returns true when it was rung. One waiter at a time.
    @discardableResult
    public func wait(upTo timeout: Duration) async -> Bool {
        if state.withLock({ state in
            defer { state.rung = false }
            return state.rung
        }) {
            return true
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let alreadyRung = self.state.withLock { state -> Bool in
                        if state.rung {
                            state.rung = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if alreadyRung { continuation.resume() }
                }
                return true
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                self.release()
                return false
            }
            // The timer always releases the waiter, also when cancelled, so the group always finishes.
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Resumes a pending waiter without marking the bell as rung.
    private func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}
