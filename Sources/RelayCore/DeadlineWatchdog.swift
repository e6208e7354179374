import Synchronization

/// One timer for every deadline of the process (each database statement's, each provider or subscriber
/// answer's): a `Task.sleep` per deadline was a visible cost under load, each one a timer of the dispatch
/// manager and a wake-up of its thread. Entries are checked four times a second, so a deadline fires within
/// 250 ms of its time.
public final class DeadlineWatchdog: Sendable {
    public static let shared = DeadlineWatchdog()

    struct State {
        var next: UInt64 = 0
        var entries: [UInt64: (deadline: ContinuousClock.Instant, expire: @Sendable () -> Void)] = [:]
        var ticking = false
    }

    private let state = Mutex(State())

    /// Calls `expire` once `deadline` has passed, unless unregistered first.
    public func register(deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, startTicking) = state.withLock { state in
            state.next += 1
            state.entries[state.next] = (deadline, expire)
            defer { state.ticking = true }
            return (state.next, !state.ticking)
        }
        if startTicking { Task.detached { await self.tick() } }
        return id
    }

    /// Forgets the entry `id`, whose work ended in time (one the watchdog has just found expired may still
    /// be called, once: `expire` must allow for the work having ended meanwhile).
    public func unregister(_ id: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    /// Runs while entries exist; a later registration starts it again.
    func tick() async {
        while true {
            try? await Task.sleep(for: .milliseconds(250))
            let now = ContinuousClock.now
            let (expired, stop) = state.withLock { state in
                let expired = state.entries.filter { $0.value.deadline <= now }
                for id in expired.keys { state.entries.removeValue(forKey: id) }
                if state.entries.isEmpty { state.ticking = false }
                return (expired.values.map(\.expire), state.entries.isEmpty)
            }
            for expire in expired { expire() }
            if stop { return }
        }
    }
}
