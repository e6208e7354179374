import RelayCore
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
