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

    @Test func rfc3339RoundTrips() throws {
        let parsed = try #require(RFC3339.parse("2026-11-25T10:00:00.250Z"))
        #expect(abs(parsed.timeIntervalSince1970 - 1_795_600_800.25) < 0.001)
        #expect(RFC3339.parse("2026-11-25T10:00:00+01:00") == Date(timeIntervalSince1970: 1_795_597_200))
        #expect(RFC3339.parse("25/11/2026") == nil)
    }
}
