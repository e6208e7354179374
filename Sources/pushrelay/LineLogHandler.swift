import Foundation
import Logging
import RelayCore

/// Writes each log record as one line on stderr, in text (the default) or as one JSON object (`LOG_FORMAT=json`).
///
/// Text: `2026-12-06T13:40:07.123Z info pushrelay: path=/health status=200 [RelayHTTP] request`, the layout
/// of swift-log's `StreamLogHandler` (metadata sorted by key, then the source module and the message) with
/// UTC timestamps. The relay logs a line for every request, and `StreamLogHandler` made each one cost a
/// time-zone lookup, two metadata dictionaries and a locked `fwrite` with a flush: about 7 % of an ingest
/// request's CPU (BENCHMARKS.md). JSON: `time`, `level`, `logger`, `message` and the metadata as strings.
struct LineLogHandler: LogHandler {
    enum Format {
        case text
        case json
    }

    let label: String
    let format: Format
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let line =
            switch format {
            case .text: textLine(event)
            case .json: jsonLine(event)
            }
        line.writeToStandardError()
    }

    func textLine(_ event: LogEvent) -> LogLine {
        var line = LogLine()
        line.appendTimestamp()
        line.append(UInt8(ascii: " "))
        line.append(event.level.rawValue)
        line.append(UInt8(ascii: " "))
        line.append(label)
        line.append(UInt8(ascii: ":"))
        for (key, value) in merged(event.metadata) {
            line.append(UInt8(ascii: " "))
            line.append(key)
            line.append(UInt8(ascii: "="))
            line.append(value.description)
        }
        line.append(" [")
        line.append(event.source)
        line.append("] ")
        line.append(event.message.description)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    func jsonLine(_ event: LogEvent) -> LogLine {
        var fields: [(String, JSONValue)] = [
            ("time", .string(RFC3339.format(Date()))), ("level", .string(event.level.rawValue)),
            ("logger", .string(label)), ("message", .string(event.message.description)),
        ]
        for (key, value) in merged(event.metadata) {
            fields.append((key, .string(value.description)))
        }
        var line = LogLine()
        line.append(JSONValue.object(fields).serialized())
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// The handler's metadata overridden by the record's, sorted by key.
    func merged(_ record: Logger.Metadata?) -> [(key: String, value: Logger.Metadata.Value)] {
        let all = metadata.isEmpty ? record ?? [:] : metadata.merging(record ?? [:]) { $1 }
        return all.sorted { $0.key < $1.key }
    }
}
