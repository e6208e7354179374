import AsyncHTTPClient
import NIOCore

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
    public func collect(upTo limit: Int, until deadline: ContinuousClock.Instant) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask { try await self.collect(upTo: limit) }
            group.addTask {
                try await Task.sleep(until: deadline)
                return nil
            }
            defer { group.cancelAll() }
            guard let answer = try await group.next()! else { throw AnswerDeadlineExceeded() }
            return answer
        }
    }
}
