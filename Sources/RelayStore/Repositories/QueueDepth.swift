import Foundation
import PostgresNIO

/// How much work waits in PostgreSQL, and how late the oldest of it is: what an operator alerts on.
///
/// Read from the database when `GET /metrics` is scraped, so every relay process reports the same numbers
/// (the queue is shared). One statement of counts over the queues' partial indexes; its cost grows with
/// the backlog it counts, not with the history of finished work.
public struct QueueDepth: Sendable, Equatable {
    /// Publish jobs by state: `scheduled`, `queued` (waiting for their time or a worker), `running` (leased).
    public var jobsScheduled: Int
    public var jobsQueued: Int
    public var jobsRunning: Int
    /// Queued or scheduled jobs whose time has come: they wait for a worker now.
    public var jobsDue: Int
    /// Seconds since the oldest due job became due; 0 when none is due.
    public var oldestDueJobSeconds: Double
    /// Callbacks waiting for a delivery try (`pending`, due or retrying later) and being delivered.
    public var callbacksPending: Int
    public var callbacksDelivering: Int
    /// Seconds since the oldest due pending callback became due; 0 when none is due.
    public var oldestDueCallbackSeconds: Double

    /// How long the read may take before `GET /metrics` answers without it.
    public static let deadline: Duration = .seconds(5)

    static let query: PostgresQuery = """
        SELECT
            (SELECT count(*) FROM publish_jobs WHERE state = 'scheduled'),
            (SELECT count(*) FROM publish_jobs WHERE state = 'queued'),
            (SELECT count(*) FROM publish_jobs WHERE state = 'running'),
            (SELECT count(*) FROM publish_jobs WHERE state IN ('queued', 'scheduled') AND run_at <= now()),
            (SELECT coalesce(extract(epoch FROM now() - min(run_at)), 0)::float8
             FROM publish_jobs WHERE state IN ('queued', 'scheduled') AND run_at <= now()),
            (SELECT count(*) FROM callbacks WHERE state = 'pending'),
            (SELECT count(*) FROM callbacks WHERE state = 'delivering'),
            (SELECT coalesce(extract(epoch FROM now() - min(next_attempt_at)), 0)::float8
             FROM callbacks WHERE state = 'pending' AND next_attempt_at <= now())
        """
}

extension Store {
    /// The queues' depth now (one read-only statement, `QueueDepth.deadline` at most).
    public func queueDepth() async throws -> QueueDepth {
        let client = self.client
        let logger = self.logger
        return try await Self.withDeadline(QueueDepth.deadline) {
            let rows = try await client.query(QueueDepth.query, logger: logger)
            for try await (scheduled, queued, running, due, oldestJob, pending, delivering, oldestCallback) in rows.decode(
                (Int, Int, Int, Int, Double, Int, Int, Double).self)
            {
                return QueueDepth(
                    jobsScheduled: scheduled, jobsQueued: queued, jobsRunning: running, jobsDue: due,
                    oldestDueJobSeconds: max(0, oldestJob), callbacksPending: pending, callbacksDelivering: delivering,
                    oldestDueCallbackSeconds: max(0, oldestCallback))
            }
            throw DatabaseError("the queue depth query returned no row")
        }
    }
}
