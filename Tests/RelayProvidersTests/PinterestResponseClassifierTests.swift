import Foundation
import Testing

@testable import RelayProviders

/// The decision table of providers.md §3.5.
@Suite struct PinterestResponseClassifierTests {
    static let now = Date(timeIntervalSince1970: 1_795_600_800)

    @Test(arguments: [
        (201, #"{"id":"813744226420795884"}"#, ResponseClassification.Kind.success, 201),
        (401, #"{"code":2,"message":"Authentication failed."}"#, .tokenRejected, 403),
        (403, #"{"code":3,"message":"You do not have permission"}"#, .permanent, 403),
        (400, #"{"code":1,"message":"Invalid parameters."}"#, .permanent, 400),
        (404, #"{"code":2,"message":"Board not found."}"#, .permanent, 404),
        (429, #"{"code":8,"message":"Rate limit exceeded."}"#, .rateLimited, 429),
        (500, "oops", .retryable, 502),
        (503, "", .retryable, 502),
    ])
    func classifies(status: Int, body: String, kind: ResponseClassification.Kind, reply: Int) {
        let result = PinterestResponseClassifier.classify(status: status, headers: [], body: Data(body.utf8), now: Self.now)
        #expect(result.kind == kind)
        #expect(result.replyStatus == reply)
    }

    @Test func messageAndRetryAfter() {
        let result = PinterestResponseClassifier.classify(
            status: 429, headers: [("Retry-After", "120")], body: Data(#"{"code":8,"message":"Slow down"}"#.utf8), now: Self.now)
        #expect(result.message == "Slow down")
        #expect(result.retryAt == Self.now.addingTimeInterval(120))
    }

    @Test func boardSlugs() {
        #expect(PinterestAdapter.slug("Summer Trips 2026") == "summer-trips-2026")
        #expect(PinterestAdapter.slug("  Café & Crème! ") == "caf%C3%A9-cr%C3%A8me")
    }
}
