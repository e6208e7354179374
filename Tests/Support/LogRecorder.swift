import Logging
import Synchronization

/// Keeps what a relay logs, for tests that must wait until the relay has done something nothing else shows (a
/// request it answered on a connection already closed).
public final class LogRecorder: Sendable {
    public struct Record: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]
    }

    struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(
            level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String,
            line: UInt
        ) {
            let merged = self.metadata.merging(metadata ?? [:]) { $1 }
            recorder.append(Record(level: level, message: message.description, metadata: merged.mapValues { "\($0)" }))
        }
    }

    private let records = Mutex<[Record]>([])
    private let waiters = Waiters()

    public init() {}

    /// A logger whose records (from `info` up) this recorder keeps.
    public var logger: Logger { Logger(label: "recorded") { _ in Handler(recorder: self) } }

    func append(_ record: Record) {
        records.withLock { $0.append(record) }
        waiters.wake()
    }

    /// The first record that `matches`, waiting for it at most `seconds` (nil past them).
    public func first(within seconds: Int = 20, where matches: @escaping @Sendable (Record) -> Bool) async -> Record? {
        _ = await waiters.wait(until: .now + .seconds(seconds)) { self.records.withLock { $0.contains(where: matches) } }
        return records.withLock { $0.first(where: matches) }
    }
}
