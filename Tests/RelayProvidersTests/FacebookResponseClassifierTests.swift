import Foundation
import Testing

@testable import RelayProviders

/// The decision table of providers.md §1.5–1.6.
@Suite struct FacebookResponseClassifierTests {
    static let now = Date(timeIntervalSince1970: 1_795_600_800)

    static func body(_ code: Int, transient: Bool = false) -> Data {
        Data(#"{"error":{"message":"(#\#(code)) something","type":"OAuthException","code":\#(code),"is_transient":\#(transient),"fbtrace_id":"x"}}"#.utf8)
    }

    @Test(arguments: [
        (400, 190, ResponseClassification.Kind.tokenRejected, 403), (400, 102, .tokenRejected, 403),
        (400, 4, .rateLimited, 429), (400, 17, .rateLimited, 429), (400, 32, .rateLimited, 429), (400, 613, .rateLimited, 429),
        (400, 80001, .rateLimited, 429), (400, 368, .rateLimited, 429),
        (500, 1, .retryable, 502), (500, 2, .retryable, 502),
        (403, 10, .permanent, 403), (403, 200, .permanent, 403), (403, 299, .permanent, 403),
        (400, 100, .permanent, 400), (400, 506, .permanent, 409), (400, 1_609_005, .permanent, 400),
    ])
    func classifies(status: Int, code: Int, kind: ResponseClassification.Kind, reply: Int) {
        let result = FacebookResponseClassifier.classify(status: status, headers: [], body: Self.body(code), now: Self.now)
        #expect(result.kind == kind)
        #expect(result.replyStatus == reply)
    }

    @Test func transientErrorsAreRetried() {
        #expect(FacebookResponseClassifier.classify(status: 400, headers: [], body: Self.body(9999, transient: true), now: Self.now).kind == .retryable)
    }

    @Test func businessUseCaseHeaderSetsTheWait() {
        let header = #"{"1212121212":[{"type":"pages","call_count":100,"total_cputime":20,"total_time":30,"estimated_time_to_regain_access":12}]}"#
        let result = FacebookResponseClassifier.classify(
            status: 400, headers: [("X-Business-Use-Case-Usage", header)], body: Self.body(80001), now: Self.now)
        #expect(result.retryAt == Self.now.addingTimeInterval(720))
    }
}
