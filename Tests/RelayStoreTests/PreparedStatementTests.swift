import Foundation
import PostgresNIO
import RelayCore
import Testing

@testable import RelayStore

/// The prepared statements of the hot path: a query built with any values is its key's statement, and a
/// key that lists its parameter types lists one per value.
@Suite struct PreparedStatementTests {
    @Test func queriesWithOtherValuesAreTheSameStatement() {
        let finish = JobQueue.finishQuery(
            UUID(), owner: "host:1:abc", tryNumber: 3, state: "requeue", isFinal: false, result: #"{"a":1}"#,
            error: RelayError(status: 429, info: "slow down"), runAt: Date(), pause: true, attempts: "[{}]")
        #expect(finish.sql == JobQueue.FinishTry.sql)
        #expect(finish.binds.count == JobQueue.FinishTry.parameterTypes.count)
        #expect(JobQueue.claimQuery(owner: "o", limit: 32, leaseSeconds: 45).sql == JobQueue.ClaimJobs.sql)
        #expect(CallbackQueue.claimQuery(owner: "o", limit: 8, leaseSeconds: 30).sql == CallbackQueue.ClaimCallbacks.sql)
    }
}
