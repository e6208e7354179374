import Foundation
import Logging
import RelayCore

/// Writes each log record as one line on stderr, in text (the default) or as one JSON object (`LOG_FORMAT=json`).
///
/// Text: `2026-12-06T13:40:07.123Z info pushrelay: path=/health status=200 [RelayHTTP] request`, the layout
/// of swift-log's `StreamLogHandler` (metadata sorted by key, then the source module and the message) with
/// UTC timestamps, and control characters of values and messages escaped, so that one record is one line.
/// The relay logs a line for every request, and `StreamLogHandler` made each one cost a
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
        // `RFC3339` formats from `gmtime_r`; `localtime`, which swift-log's stream handler calls, re-reads
        // the time zone for every line.
        line.append(RFC3339.format(Date()))
        line.append(UInt8(ascii: " "))
        line.append(event.level.rawValue)
        line.append(UInt8(ascii: " "))
        line.append(label)
        line.append(UInt8(ascii: ":"))
        for (key, value) in merged(event) {
            line.append(UInt8(ascii: " "))
            line.append(key)
            line.append(UInt8(ascii: "="))
            line.appendEscaped(value.description)
        }
        line.append(" [")
        line.append(event.source)
        line.append("] ")
        line.appendEscaped(event.message.description)
        line.append(UInt8(ascii: "\n"))
        return line
    }

    func jsonLine(_ event: LogEvent) -> LogLine {
        var fields: [(String, JSONValue)] = [
            ("time", .string(RFC3339.format(Date()))), ("level", .string(event.level.rawValue)),
            ("logger", .string(label)), ("message", .string(event.message.description)),
        ]
        for (key, value) in merged(event) {
            fields.append((key, .string(value.description)))
        }
        var line = LogLine(bytes: JSONValue.object(fields).serializedBytes())
        line.append(UInt8(ascii: "\n"))
        return line
    }

    /// The handler's metadata overridden by the record's, sorted by key; an error passed to the logger
    /// (`logger.error(…, error:)`) as `error.message` and `error.type`, as swift-log's stream handler shows it.
    func merged(_ event: LogEvent) -> [(key: String, value: Logger.Metadata.Value)] {
        var all = metadata.isEmpty ? event.metadata ?? [:] : metadata.merging(event.metadata ?? [:]) { $1 }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        return all.sorted { $0.key < $1.key }
    }
}
