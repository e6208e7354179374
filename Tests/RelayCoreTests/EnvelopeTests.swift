import Foundation
import Testing

@testable import RelayCore

@Suite struct EnvelopeTests {
    let date = Date(timeIntervalSince1970: 1_795_600_800)  // Wed, 25 Nov 2026 10:00:00 +0000

    @Test func successCarriesResultData() {
        let envelope = Envelope(
            date: date, resource: "/push/identities/x/twitter/post.json", flag: .success, code: 200,
            info: Envelope.successInfo, data: ["provider": "twitter", "object": "post"])
        #expect(
            envelope.json.serialized()
                == #"{"response":{"request":{"date":"Wed, 25 Nov 2026 10:00:00 +0000","resource":"/push/identities/x/twitter/post.json","status":{"flag":"success","code":200,"info":"Your request has been processed successfully"}},"result":{"data":{"provider":"twitter","object":"post"}}}}"#
        )
    }

    @Test func errorsHaveNoResult() {
        var envelope = Envelope.error(resource: "/x", .unauthorized())
        envelope.date = date
        #expect(
            envelope.json.serialized()
                == #"{"response":{"request":{"date":"Wed, 25 Nov 2026 10:00:00 +0000","resource":"/x","status":{"flag":"error","code":401,"info":"Authentication credentials are missing or incorrect: http://docs.oneall.com/api/basic/authentication/"}}}}"#
        )
    }

    @Test func longQuotedValuesAreCut() {
        #expect(RelayError.excerpt("twitter/tweet") == "twitter/tweet")
        let exact = String(repeating: "x", count: RelayError.quotedLimit)
        #expect(RelayError.excerpt(exact) == exact)
        #expect(RelayError.excerpt(String(repeating: "x", count: 6000)) == String(repeating: "x", count: 100) + "… (6000 bytes)")
        // Cut between scalars, never inside one.
        let accents = RelayError.excerpt(String(repeating: "é", count: 100))
        #expect(accents == String(repeating: "é", count: 50) + "… (200 bytes)")
        #expect(RelayError.excerpt(String(repeating: "b", count: 2000), limit: 1024).hasSuffix("… (2000 bytes)"))
    }

    @Test func rfc3339RoundTrips() throws {
        let parsed = try #require(RFC3339.parse("2026-11-25T10:00:00.250Z"))
        #expect(abs(parsed.timeIntervalSince1970 - 1_795_600_800.25) < 0.001)
        #expect(RFC3339.parse("2026-11-25T10:00:00+01:00") == Date(timeIntervalSince1970: 1_795_597_200))
        #expect(RFC3339.parse("25/11/2026") == nil)
    }

    @Test(arguments: [
        (0.0, "Thu, 01 Jan 1970 00:00:00 +0000"), (1_796_072_466.9, "Mon, 30 Nov 2026 21:01:06 +0000"),
        (1_772_409_600.0, "Mon, 02 Mar 2026 00:00:00 +0000"),
    ])
    func oneAllDateIsPHPsDateR(seconds: Double, expected: String) {
        #expect(OneAllDate.format(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
