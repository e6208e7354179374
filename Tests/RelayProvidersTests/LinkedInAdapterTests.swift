import Foundation
import Testing

@testable import RelayProviders

@Suite struct LinkedInAdapterTests {
    static let now = Date(timeIntervalSince1970: 1_795_600_800)  // 2026-11-25 10:00 UTC

    @Test func littleTextReservedCharactersAreEscaped() {
        #expect(LinkedInAdapter.escapedLittleText("a (b) [c] {d} <e> #f @g *h _i ~j |k \\l") == ##"a \(b\) \[c\] \{d\} \<e\> \#f \@g \*h \_i \~j \|k \\l"##)
        #expect(LinkedInAdapter.escapedLittleText("plain text, é") == "plain text, é")
    }

    @Test(arguments: [
        (201, "", ResponseClassification.Kind.success, 201),
        (401, #"{"status":401,"serviceErrorCode":65601,"code":"EXPIRED_ACCESS_TOKEN","message":"expired"}"#, .tokenRejected, 403),
        (403, #"{"status":403,"code":"ACCESS_DENIED","message":"Not enough permissions"}"#, .permanent, 403),
        (422, #"{"status":422,"code":"DUPLICATE_POST","message":"Content is a duplicate"}"#, .permanent, 409),
        (422, #"{"status":422,"code":"UNPROCESSABLE_ENTITY","message":"/author :: bad"}"#, .permanent, 400),
        (426, #"{"status":426,"code":"NONEXISTENT_VERSION","message":"Requested version 202301 is not active"}"#, .permanent, 502),
        (429, #"{"status":429,"message":"Resource level throttle limit"}"#, .rateLimited, 429),
        (504, "", .retryable, 502),
    ])
    func classifies(status: Int, body: String, kind: ResponseClassification.Kind, reply: Int) {
        let result = LinkedInResponseClassifier.classify(status: status, headers: [], body: Data(body.utf8), now: Self.now)
        #expect(result.kind == kind)
        #expect(result.replyStatus == reply)
    }

    @Test func throttlingWaitsForMidnightUTC() {
        let result = LinkedInResponseClassifier.classify(status: 429, headers: [], body: Data(), now: Self.now)
        #expect(result.retryAt == Date(timeIntervalSince1970: 1_795_651_200))  // 2026-11-26 00:00 UTC
    }
}
