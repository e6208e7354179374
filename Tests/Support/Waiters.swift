import Synchronization

/// Tasks waiting for a condition on state that other tasks change, each until it holds or its deadline passes:
/// what tests wait on instead of sleeping (`CallbackReceiver`, `LogRecorder`). The changer calls `wake()`.
public final class Waiters: Sendable {
    struct State {
        var next = 0
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Wakes every waiting task to check its condition again.
    public func wake() {
        let all = state.withLock { state in
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for waiter in all { waiter.resume() }
    }

    /// Waits until `holds()` (checked at the start and at each wake) or `deadline`; answers whether it holds.
    public func wait(until deadline: ContinuousClock.Instant, for holds: @escaping @Sendable () -> Bool) async -> Bool {
        while true {
            if holds() { return true }
            if ContinuousClock.now >= deadline { return false }
            let id = state.withLock { state in
                state.next += 1
                return state.next
            }
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    await withCheckedContinuation { continuation in
                        self.state.withLock { $0.waiting[id] = continuation }
                        // Registered before checking: a change made from here on wakes it.
                        if holds() { self.resume(id) }
                    }
                }
                group.addTask { try? await Task.sleep(until: deadline) }
                await group.next()
                group.cancelAll()
                // The deadline came first: the registered waiter is woken so that the group can end.
                self.resume(id)
            }
        }
    }

    private func resume(_ id: Int) {
        state.withLock { $0.waiting.removeValue(forKey: id) }?.resume()
    }
}
