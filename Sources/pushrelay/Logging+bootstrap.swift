import Foundation
import Logging
import RelayCore

/// Sets up swift-log: human-readable lines by default, one JSON object a line with `LOG_FORMAT=json`.
enum LogSetup {
    static func bootstrap(json: Bool, level: String) -> Logger {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = logLevel
            return handler
        }
        var logger = Logger(label: "pushrelay")
        logger.logLevel = logLevel
        return logger
    }
}

/// Writes each log record as one JSON object on stderr (for log shippers).
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, JSONValue)] = [
            ("time", .string(RFC3339.format(Date()))), ("level", .string(event.level.rawValue)),
            ("logger", .string(label)), ("message", .string("\(event.message)")),
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            fields.append((key, .string("\(value)")))
        }
        FileHandle.standardError.write(Data((JSONValue.object(fields).serialized() + "\n").utf8))
    }
}
