import PostgresNIO
import Synchronization

/// Group commit: writes that arrive together share one statement and one commit.
///
/// A commit waits for the WAL to reach the disk, and each statement costs a round trip and PostgreSQL's
/// per-statement work, so one commit per item caps throughput at what one connection can do. Here an item
/// that finds no write in flight is written at once, alone, by the task that submits it; items that arrive
/// while a write is in flight join a queue and wait, and one flush at a time takes everything queued (up to
/// `maximumBatch`) and writes it with `write` — a procedure that commits inside its CALL — then answers each
/// item. So batches grow with load, and a lone item on an idle relay is written without a hop to another
/// task and back (each hop a thread wake-up on an idle machine: the idle benchmark's path lost 0.5 ms of its
/// 3.3 on the wire). Every item is answered only after the commit that holds it.
///
/// The intake writes publish requests this way (`PublishBatcher`); the publish worker its marks before
/// publishing calls and the ends of its tries, together (`JobQueue.write(_:owner:)`);
/// the callback worker the records of its deliveries (`CallbackQueue.record(_:)`).
public final class GroupCommit<Item: Sendable, Outcome: Sendable>: Sendable {
    /// One item waiting for its batch's commit.
    struct Waiter {
        let item: Item
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    struct State {
        var queue: [Waiter] = []
        var flushing = false
    }

    let maximumBatch: Int
    /// Writes a batch in one committed statement; one outcome per item, in their order.
    let writeBatch: @Sendable ([Item]) async throws -> [Result<Outcome, any Error>]
    private let state = Mutex(State())

    public init(maximumBatch: Int, write: @escaping @Sendable ([Item]) async throws -> [Result<Outcome, any Error>]) {
        self.maximumBatch = maximumBatch
        self.writeBatch = write
    }

    /// Writes `item` (in some batch) and returns its outcome once that batch has committed.
    ///
    /// An item written alone is written in the caller's task: a caller cancelled meanwhile gets the
    /// `CancellationError` of `Store.withDeadline` while the write goes on, its fate unknown to it as after a
    /// lost connection (nothing in the relay cancels these callers but a forced shutdown). An item that waits
    /// in the queue gets its batch's outcome, cancelled or not.
    public func submit(_ item: Item) async throws -> Outcome {
        let writesAlone = state.withLock { state in
            guard !state.flushing else { return false }
            state.flushing = true
            return true
        }
        if writesAlone {
            let outcome = await Self.write([item], with: writeBatch)[0]
            // The items queued meanwhile are flushed by a task of their own; this one's caller goes on.
            let queued = state.withLock { state in
                if state.queue.isEmpty { state.flushing = false }
                return !state.queue.isEmpty
            }
            if queued { Task(priority: .high) { await self.flush() } }
            return try outcome.get()
        }
        return try await withCheckedThrowingContinuation { continuation in
            let startFlushing = state.withLock { state in
                state.queue.append(Waiter(item: item, continuation: continuation))
                defer { state.flushing = true }
                return !state.flushing
            }
            // Every waiter of a batch waits for its flush, so the flush runs ahead of the per-request work:
            // at the default priority, its resumptions after each round trip queued behind the handlers of
            // the batch before (measured during ingest: 5.3 ms from CALL to answer instead of 6.1).
            if startFlushing { Task(priority: .high) { await self.flush() } }
        }
    }

    /// How many items wait in the queue (for tests).
    var queued: Int { state.withLock { $0.queue.count } }

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
            await commit(batch)
        }
    }

    /// Writes one batch and answers its waiters.
    private func commit(_ batch: [Waiter]) async {
        let outcomes = await Self.write(batch.map(\.item), with: writeBatch)
        for (waiter, outcome) in zip(batch, outcomes) { waiter.continuation.resume(with: outcome) }
    }

    /// Writes `items` as one batch. When PostgreSQL refuses a batch of several (an error response: the
    /// procedure rolled back, nothing of it committed), each item is written again alone, so that one item
    /// it refuses does not fail the others. Any other error (a lost connection, a timeout) leaves the
    /// batch's fate unknown: every item gets that error and nothing is written twice.
    public static func write(
        _ items: [Item], with write: @Sendable ([Item]) async throws -> [Result<Outcome, any Error>]
    ) async -> [Result<Outcome, any Error>] {
        do {
            let outcomes = try await write(items)
            guard outcomes.count == items.count else {
                throw DatabaseError("a batch of \(items.count) was answered with \(outcomes.count) outcomes")
            }
            return outcomes
        } catch let error as PSQLError where items.count > 1 && error.code == .server && !DatabaseUnavailable.matches(error) {
            var outcomes: [Result<Outcome, any Error>] = []
            for item in items { outcomes += await Self.write([item], with: write) }
            return outcomes
        } catch {
            return items.map { _ in .failure(error) }
        }
    }
}

/// Group commit of publish requests: the intake's batch insert (`EventRepository.enqueue(_:)`).
public typealias PublishBatcher = GroupCommit<NewPublish, RecordedEvent>

extension GroupCommit where Item == NewPublish, Outcome == RecordedEvent {
    public convenience init(store: Store, maximumBatch: Int = 256) {
        self.init(maximumBatch: maximumBatch) { publishes in try await store.events.enqueue(publishes) }
    }
}
