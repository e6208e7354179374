/// Where a publish job stands; stored as readable text in `publish_jobs.state`.
public enum PublishState: String, Sendable, Codable, CaseIterable {
    /// Waiting for `request.schedule.at`.
    case scheduled
    /// Waiting for a worker.
    case queued
    /// Leased by a worker that is talking to the provider.
    case running
    case succeeded
    case failed
    /// The provider may or may not have published (the answer was lost); never retried automatically.
    case indeterminate
    case cancelled

    public var isFinal: Bool {
        switch self {
        case .succeeded, .failed, .indeterminate, .cancelled: true
        case .scheduled, .queued, .running: false
        }
    }
}
