import Foundation
import PostgresNIO
import RelayCore
import Testing
import TestSupport

/// A worker that dies leaves its job `running` under a lease that runs out; the rescuer takes it back:
/// queued again if the dead try had not started the publishing call, `indeterminate` if it had (DESIGN §5).
@Suite struct LeaseRescueTests {
    /// A tweet scheduled an hour ahead (no worker takes it), then made to look claimed by a worker that died.
    /// A running job leased to `owner`, whose lease ran out (or runs until `leaseFor` from now).
    func jobOfADeadWorker(
        _ env: TestEnvironment, _ identity: TestIdentity, publishingCallStarted: Bool, owner: String = "dead-worker",
        leaseFor: Duration = .seconds(-1)
    ) async throws -> UUID {
        let at = RFC3339.format(Date().addingTimeInterval(3600))
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"schedule":{"at":"\#(at)"},"push":{"post":{"message":"orphan \#(UUID())"}}}}"#)
        let eventID = try #require(reply.data?["event_id"]?.stringValue.flatMap(UUID.init(uuidString:)))
        try await env.store.client.query(
            """
            UPDATE publish_jobs SET state = 'running', lease_owner = \(owner),
                lease_expires_at = now() + make_interval(secs => \(Double(leaseFor.components.seconds))),
                attempt_count = 1, started_at = now(), run_at = now(),
                publish_call_started_at = CASE WHEN \(publishingCallStarted) THEN now() END
            WHERE event_id = \(eventID) AND state = 'scheduled'
            """)
        return eventID
    }

    @Test func aJobWhoseWorkerDiedBeforeThePublishingCallIsPublishedOnce() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let eventID = try await jobOfADeadWorker(env, identity, publishingCallStarted: false)
        let event = try await env.finalEvent(eventID.uuidString.lowercased())
        #expect(event["state"] == "succeeded", "\(event.serialized())")
        #expect(event["attempts"]?.arrayValue?.map { $0["try"] } == [2])
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).count == 1)
    }

    @Test func aJobWhoseWorkerDiedDuringThePublishingCallIsIndeterminate() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let eventID = try await jobOfADeadWorker(env, identity, publishingCallStarted: true)
        let event = try await env.finalEvent(eventID.uuidString.lowercased())
        #expect(event["state"] == "indeterminate")
        #expect(event["error"]?["info"]?.stringValue?.contains("may have been published") == true)
        #expect(env.sandbox.recorder.requests(provider: "x", token: identity.accessToken).isEmpty)
    }

    @Test func aLiveWorkerKeepsItsLeaseAndMarksThePublishingCall() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        // Pretend the owner is alive: its heartbeat renews the lease before the rescuer sees it expired.
        let eventID = try await jobOfADeadWorker(env, identity, publishingCallStarted: false, owner: "live-worker", leaseFor: .seconds(30))
        #expect(try await env.store.jobs.renewLeases(owner: "live-worker", events: [eventID], lease: .seconds(300)) == 1)
        let rows = try await env.store.client.query(
            "SELECT state, lease_expires_at > now() + interval '200 seconds' FROM publish_jobs WHERE event_id = \(eventID)")
        for try await (state, renewed) in rows.decode((String, Bool).self) {
            #expect(state == "running")
            #expect(renewed)
        }
        // Then it dies: the job is rescued and published, and the publishing call is marked before it is made.
        try await env.store.client.query("UPDATE publish_jobs SET lease_expires_at = now() - interval '1 second' WHERE event_id = \(eventID)")
        #expect(try await env.finalEvent(eventID.uuidString.lowercased())["state"] == "succeeded")
        let marked = try await env.store.client.query(
            "SELECT publish_call_started_at IS NOT NULL FROM publish_jobs WHERE event_id = \(eventID)")
        for try await isMarked in marked.decode(Bool.self) { #expect(isMarked) }
    }
}
