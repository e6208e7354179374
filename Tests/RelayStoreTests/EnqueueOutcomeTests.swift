import Foundation
import RelayCore
import Testing

@testable import RelayStore

/// The batch insert's answer for each request (`enqueue_publishes`), as `EventRepository` reads it.
@Suite struct EnqueueOutcomeTests {
    let id = UUID()

    @Test func aJobNotLeasedHasNoLeasedIdentity() throws {
        let outcome = try EnqueueOutcome([.string(id.uuidString), "twitter", "connected", true])
        #expect(outcome.eventID == id)
        #expect(outcome.created)
        #expect(outcome.identityProvider == "twitter")
        #expect(outcome.identityState == "connected")
        #expect(outcome.leasedIdentity == nil, "a job left queued was taken for one leased to this process")
    }

    @Test func aLeasedJobCarriesItsIdentity() throws {
        let identity: JSONValue = ["credentials": "c2VhbGVk", "key_id": "k1", "accounts": []]
        let outcome = try EnqueueOutcome([.string(id.uuidString), "twitter", "connected", true, identity])
        #expect(outcome.leasedIdentity == identity)
    }

    @Test func aRequestWhoseIdentityCannotPublishWasNotCreated() throws {
        let outcome = try EnqueueOutcome([.string(id.uuidString), nil, nil, false])
        #expect(!outcome.created)
        #expect(outcome.identityProvider == nil)
        #expect(outcome.leasedIdentity == nil)
    }

    @Test func anyOtherShapeIsAnError() {
        #expect(throws: DatabaseError.self) { try EnqueueOutcome([.string(self.id.uuidString), "twitter", "connected"]) }
        #expect(throws: DatabaseError.self) { try EnqueueOutcome(["not-a-uuid", "twitter", "connected", true]) }
        #expect(throws: DatabaseError.self) { try EnqueueOutcome([.string(self.id.uuidString)]) }
    }
}
