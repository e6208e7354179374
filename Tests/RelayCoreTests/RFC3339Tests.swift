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

    /// The year has four digits, as RFC 3339 writes it: Foundation alone reads years PostgreSQL cannot store.
    @Test(arguments: ["10000-01-01T00:00:00Z", "300000-01-01T00:00:00Z", "-0001-01-01T00:00:00Z", "226-01-01T00:00:00Z", "2026"])
    func yearsOfOtherLengthsAreRefused(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func fourDigitYearsAreRead() {
        #expect(RFC3339.parse("9999-12-31T23:59:59Z") != nil)
        #expect(RFC3339.parse("2026-12-06T23:33:20.250+01:00") == Date(timeIntervalSince1970: 1_796_596_400.25))
    }

    @Test func formatReadsBack() throws {
        let date = Date(timeIntervalSince1970: 1_796_600_000.25)
        #expect(RFC3339.format(date) == "2026-12-06T23:33:20.250Z")
        #expect(try #require(RFC3339.parse(RFC3339.format(date))) == date)
    }
}
