import Foundation
import Logging
import RelayCore
import RelayStore
import ServiceLifecycle

/// Takes back publish jobs whose worker died or hung (its lease expired), so no accepted event stays
/// `running` forever (DESIGN §5).
///
/// Runs in every process that runs workers; `FOR UPDATE SKIP LOCKED` lets several rescuers share the work.
/// A job whose dead try had started the publishing call becomes `indeterminate` — it may have published,
/// and a second post is worse than none; any other is queued again.
public final class LeaseRescuer: Service, Sendable {
    let store: Store
    let interval: Duration
    let maxAttempts: Int
    let logger: Logger

    public init(store: Store, configuration: Configuration, logger: Logger) {
        self.store = store
        self.interval = configuration.rescueInterval
        self.maxAttempts = configuration.publishMaxAttempts
        self.logger = logger
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                for job in try await store.jobs.rescueExpired(maxAttempts: maxAttempts) {
                    logger.warning(
                        "rescued a job whose worker stopped",
                        metadata: ["event_id": "\(job.eventID.lowercasedString)", "state": "\(job.state.rawValue)"])
                }
            } catch {
                // A CancellationError is the process stopping, not a failure.
                if !(error is CancellationError) {
                    logger.warning("could not rescue expired leases", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
        }
    }
}
