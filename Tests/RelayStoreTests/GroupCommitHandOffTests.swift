import Synchronization
import Testing

@testable import RelayStore

/// `GroupCommit` writes an item that finds no write in flight at once, alone, in its caller's task; the
/// items that arrive during that write wait, and are written together once it is done.
@Suite struct GroupCommitHandOffTests {
    /// A write that records its batches and holds the first one until `release()`.
    final class HeldWrites: Sendable {
        let batches = Mutex<[[Int]]>([])
        let gate: AsyncStream<Void>
        let opener: AsyncStream<Void>.Continuation

        init() { (gate, opener) = AsyncStream<Void>.makeStream() }

        func write(_ items: [Int]) async -> [Result<Int, any Error>] {
            let first = batches.withLock { batches in
                batches.append(items)
                return batches.count == 1
            }
            if first { for await _ in gate { break } }
            return items.map { .success($0 * 10) }
        }

        func release() { opener.yield() }
    }

    @Test
    func itemsArrivingDuringALoneWriteShareTheNextBatch() async throws {
        let writes = HeldWrites()
        let commit = GroupCommit<Int, Int>(maximumBatch: 16) { items in await writes.write(items) }
        let first = Task { try await commit.submit(1) }
        while writes.batches.withLock({ $0.count }) == 0 { await Task.yield() }

        let others = (2...4).map { number in Task { try await commit.submit(number) } }
        while commit.queued < 3 { await Task.yield() }
        #expect(writes.batches.withLock { $0 } == [[1]], "nothing else is written while the first write is in flight")
        writes.release()

        #expect(try await first.value == 10)
        // The waiting items are written by a flush the first write hands them to; without it they would wait
        // forever, so they are awaited only once their batch has been written.
        let deadline = ContinuousClock.now + .seconds(20)
        while writes.batches.withLock({ $0.count }) < 2 && ContinuousClock.now < deadline { await Task.yield() }
        try #require(writes.batches.withLock { $0.count } == 2, "the items queued during the first write were never written")
        var answers: [Int] = []
        for task in others { answers.append(try await task.value) }
        #expect(answers == [20, 30, 40])
        let batches = writes.batches.withLock { $0 }
        #expect(batches.count == 2)
        #expect(Set(batches.last ?? []) == [2, 3, 4], "the three waited together")

        // Idle again: the next item is written alone at once.
        #expect(try await commit.submit(5) == 50)
        #expect(writes.batches.withLock { $0.last } == [5])
    }
}
