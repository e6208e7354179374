import AsyncHTTPClient
import NIOCore
import RelayCore
import Synchronization

/// An answer whose body had not ended by its deadline.
///
/// AsyncHTTPClient's deadline ends with an answer's head, and its read timeout restarts with every byte: a
/// peer sending one byte a minute would hold the call for hours. Provider calls and callback deliveries read
/// their answers with `HTTPClientResponse.Body.collect(upTo:until:)`, which ends with this.
public struct AnswerDeadlineExceeded: Error, CustomStringConvertible {
    public var description: String { "the answer did not end in time" }
}

extension HTTPClientResponse.Body {
    /// The body, at most `limit` bytes, read until `deadline`; past it, `AnswerDeadlineExceeded`.
    ///
    /// The body is read by a task of its own, which the process's `DeadlineWatchdog` cancels at the deadline
    /// (cancelling a read of AsyncHTTPClient's body cancels its request); a sleeping task per answer, racing
    /// the read, cost each answer a timer and a wake-up of the dispatch manager's thread.
    public func collect(upTo limit: Int, until deadline: ContinuousClock.Instant) async throws -> ByteBuffer {
        let reading = Task { try await self.collect(upTo: limit) }
        let expired = Atomic(false)
        let watch = DeadlineWatchdog.shared.register(deadline: deadline) {
            expired.store(true, ordering: .relaxed)
            reading.cancel()
        }
        defer { DeadlineWatchdog.shared.unregister(watch) }
        do {
            return try await withTaskCancellationHandler {
                try await reading.value
            } onCancel: {
                reading.cancel()
            }
        } catch where expired.load(ordering: .relaxed) {
            throw AnswerDeadlineExceeded()
        }
    }
}
