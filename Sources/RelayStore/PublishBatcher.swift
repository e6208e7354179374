import Synchronization

/// Group commit for publish requests: concurrent requests are written by one statement and one commit.
///
/// A commit waits for the WAL to reach the disk, so one commit per request caps ingest at the disk's
/// flush rate. Here each request joins a queue and waits; one flush at a time takes everything queued
/// (up to `maximumBatch`) and writes it with `EventRepository.enqueue(_:)`, then answers each request.
/// While a flush is in flight the next batch gathers, so batches grow with load and an idle relay still
/// commits a lone request at once. Every request is answered only after the commit that holds it.
public final class PublishBatcher: Sendable {
    /// One request waiting for its batch's commit.
    struct Waiter {
        let publish: NewPublish
        let continuation: CheckedContinuation<RecordedEvent, any Error>
    }

    struct State {
        var queue: [Waiter] = []
        var flushing = false
    }

    let store: Store
    let maximumBatch: Int
    private let state = Mutex(State())

    public init(store: Store, maximumBatch: Int = 256) {
        self.store = store
        self.maximumBatch = maximumBatch
    }

    /// Records `publish` (in some batch) and returns once that batch has committed.
    public func enqueue(_ publish: NewPublish) async throws -> RecordedEvent {
        try await withCheckedThrowingContinuation { continuation in
            let startFlushing = state.withLock { state in
                state.queue.append(Waiter(publish: publish, continuation: continuation))
                defer { state.flushing = true }
                return !state.flushing
            }
            if startFlushing { Task { await self.flush() } }
        }
    }

    /// Writes batches until the queue is empty.
    func flush() async {
        while true {
            let batch: [Waiter] = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.flushing = false
                    return []
                }
                let count = min(state.queue.count, maximumBatch)
                defer { state.queue.removeFirst(count) }
                return Array(state.queue.prefix(count))
            }
            guard !batch.isEmpty else { return }
            do {
                let results = try await store.events.enqueue(batch.map(\.publish))
                for (waiter, result) in zip(batch, results) { waiter.continuation.resume(with: result) }
            } catch {
                // The insert is one statement: nothing of this batch was committed, and each request gets the error.
                for waiter in batch { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
