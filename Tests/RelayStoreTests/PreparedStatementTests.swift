import Foundation
import PostgresNIO
import RelayCore
import Testing

@testable import RelayStore

/// The prepared statements of the hot path: a query built with any values is its key's statement.
@Suite struct PreparedStatementTests {
    @Test func queriesWithOtherValuesAreTheSameStatement() {
        #expect(JobQueue.claimQuery(owner: "o", limit: 32, leaseSeconds: 45).sql == JobQueue.ClaimJobs.sql)
        #expect(CallbackQueue.claimQuery(owner: "o", limit: 8, leaseSeconds: 30).sql == CallbackQueue.ClaimCallbacks.sql)
    }
}
