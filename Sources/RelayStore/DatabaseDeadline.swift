import Synchronization

/// A statement or transaction that did not finish within `Store.deadline` and was cancelled.
public struct DatabaseTimeout: Error, CustomStringConvertible {
    public let deadline: Duration
    public var description: String { "the database did not answer within \(deadline)" }
}

/// The operation and the timer of `Store.withDeadline`: whichever ends first answers the caller and
/// cancels the other.
final class DeadlineRace<T: Sendable>: Sendable {
    struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var cancelled = false
    }

    private let state = Mutex(State())

    func start(
        _ continuation: CheckedContinuation<T, any Error>, work: () -> Task<Void, Never>, timer: () -> Task<Void, Never>
    ) {
        let cancelled = state.withLock { state in
            state.continuation = continuation
            return state.cancelled
        }
        if cancelled {
            finish(.failure(CancellationError()))
            return
        }
        let workTask = work()
        let timerTask = timer()
        let finished = state.withLock { state in
            state.work = workTask
            state.timer = timerTask
            return state.continuation == nil
        }
        if finished {
            workTask.cancel()
            timerTask.cancel()
        }
    }

    /// Answers the caller once; later calls do nothing.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, work, timer) = state.withLock { state in
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        guard let continuation else { return }
        work?.cancel()
        timer?.cancel()
        continuation.resume(with: result)
    }

    func cancel() {
        state.withLock { $0.cancelled = true }
        finish(.failure(CancellationError()))
    }
}
