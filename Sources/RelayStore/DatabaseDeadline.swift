import Synchronization

/// A statement or transaction that did not finish within `Store.deadline` and was abandoned.
public struct DatabaseTimeout: Error, CustomStringConvertible {
    public let deadline: Duration
    public var description: String { "the database did not answer within \(deadline)" }
}

/// The operation of `Store.withDeadline` and its expiry: whichever comes first answers the caller
/// (and cancels the operation when it is the expiry).
final class DeadlineRace<T: Sendable>: Sendable {
    struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var watch: UInt64?
        var cancelled = false
    }

    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, work: () -> Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.continuation = continuation
            return state.cancelled
        }
        if cancelled {
            finish(.failure(CancellationError()))
            return
        }
        let workTask = work()
        let finished = state.withLock { state in
            state.work = workTask
            return state.continuation == nil
        }
        if finished { workTask.cancel() }
    }

    /// Records the watchdog entry, or drops it at once when the race is already over.
    func watched(by id: UInt64) {
        let finished = state.withLock { state in
            state.watch = id
            return state.continuation == nil
        }
        if finished { DeadlineWatchdog.shared.unregister(id) }
    }

    /// Answers the caller once; later calls do nothing.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, work, watch) = state.withLock { state in
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.watch)
        }
        guard let continuation else { return }
        if case .failure = result { work?.cancel() }
        if let watch { DeadlineWatchdog.shared.unregister(watch) }
        continuation.resume(with: result)
    }

    func cancel() {
        state.withLock { $0.cancelled = true }
        finish(.failure(CancellationError()))
    }
}

/// One timer for every database deadline of the process: a sleep per statement was a visible cost
/// under load. Entries are checked four times a second, so a deadline fires within 250 ms of its time.
final class DeadlineWatchdog: Sendable {
    static let shared = DeadlineWatchdog()

    struct State {
        var next: UInt64 = 0
        var entries: [UInt64: (deadline: ContinuousClock.Instant, expire: @Sendable () -> Void)] = [:]
        var ticking = false
    }

    private let state = Mutex(State())

    /// Calls `expire` once `deadline` has passed, unless unregistered first.
    func register(deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        let (id, startTicking) = state.withLock { state in
            state.next += 1
            state.entries[state.next] = (deadline, expire)
            defer { state.ticking = true }
            return (state.next, !state.ticking)
        }
        if startTicking { Task.detached { await self.tick() } }
        return id
    }

    func unregister(_ id: UInt64) {
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
