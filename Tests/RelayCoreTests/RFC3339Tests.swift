import Foundation
import RelayCore
import Testing

/// The timestamps PushRelay writes: the same text as Foundation's ISO 8601 style with milliseconds.
@Suite struct RFC3339Tests {
    @Test(arguments: [0, 1, 1.0009, 1.9996, 951_782_400.5, 1_765_000_000.1239, 1_765_000_000.9999, 4_102_444_799.999, -1.5, -0.0005])
    func formatMatchesFoundation(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        #expect(RFC3339.format(date) == date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }

    @Test func formatReadsBack() throws {
        let date = Date(timeIntervalSince1970: 1_796_600_000.25)
        #expect(RFC3339.format(date) == "2026-12-06T23:33:20.250Z")
        #expect(try #require(RFC3339.parse(RFC3339.format(date))) == date)
    }
}
