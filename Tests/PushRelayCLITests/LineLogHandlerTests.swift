import Foundation
import Logging
import Testing

@testable import pushrelay

/// The bytes of one log line, in both formats, without writing them anywhere.
@Suite struct LineLogHandlerTests {
    struct Refusal: Error, CustomStringConvertible {
        var description: String { "the provider said no" }
    }

    func event(error: (any Error)? = nil) -> LogEvent {
        LogEvent(
            level: .warning, message: "call failed", error: error, metadata: ["path": "twitter/post", "attempt": "2"],
            source: "RelayEngine", file: #fileID, function: #function, line: #line)
    }

    @Test func textKeepsTheLayoutWithSortedMetadata() {
        var handler = LineLogHandler(label: "pushrelay", format: .text)
        handler[metadataKey: "worker"] = "w1"
        let line = String(decoding: handler.textLine(event()).bytes, as: UTF8.self)
        let layout = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z warning pushrelay: attempt=2 path=twitter\/post worker=w1 \[RelayEngine\] call failed\n/
        #expect(line.wholeMatch(of: layout) != nil, "\(line)")
    }

    /// A client's text in a record (an error sentence quoting its field) cannot start a line of its own.
    @Test func controlCharactersAreEscapedInText() {
        let handler = LineLogHandler(label: "pushrelay", format: .text)
        let forged = "got \"x\n2026-12-06T00:00:00.000Z error pushrelay: FORGED\r\t\u{1B}[31m\u{7F}\""
        let record = LogEvent(
            level: .notice, message: "request \n two", error: nil, metadata: ["info": .string(forged)],
            source: "RelayHTTP", file: #fileID, function: #function, line: #line)
        let line = String(decoding: handler.textLine(record).bytes, as: UTF8.self)
        #expect(line.filter { $0 == "\n" }.count == 1)
        #expect(line.hasSuffix("] request \\n two\n"))
        #expect(line.contains(#"info=got "x\n2026-12-06T00:00:00.000Z error pushrelay: FORGED\r\t\u001b[31m\u007f""#))
    }

    @Test func anErrorGivenToTheLoggerIsShown() throws {
        let handler = LineLogHandler(label: "pushrelay", format: .json)
        let line = handler.jsonLine(event(error: Refusal()))
        #expect(line.bytes.last == UInt8(ascii: "\n"))
        let record = try #require(JSONSerialization.jsonObject(with: Data(line.bytes)) as? [String: String])
        #expect(record["message"] == "call failed")
        #expect(record["level"] == "warning")
        #expect(record["error.message"] == "the provider said no")
        #expect(record["error.type"]?.hasSuffix("Refusal") == true)
        #expect(record["attempt"] == "2")
    }
}
