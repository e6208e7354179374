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
