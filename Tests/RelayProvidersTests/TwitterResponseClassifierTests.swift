import Foundation
import Testing

@testable import RelayProviders

/// The decision table of providers.md §4.5: what each X answer means for the relay.
@Suite struct TwitterResponseClassifierTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var status: Int
        var headers: [(String, String)] = []
        var body: String
        var kind: ResponseClassification.Kind
        var replyStatus: Int
        var testDescription: String { "\(status) \(body.prefix(40))" }
    }

    static let now = Date(timeIntervalSince1970: 1_795_600_800)

    static let table: [Row] = [
        Row(status: 201, body: #"{"data":{"id":"1","text":"hi"}}"#, kind: .success, replyStatus: 201),
        Row(status: 200, body: #"{"media_id_string":"7"}"#, kind: .success, replyStatus: 200),
        Row(status: 401, body: #"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
            kind: .tokenRejected, replyStatus: 403),
        Row(status: 429, headers: [("x-rate-limit-reset", "1795601100")], body: #"{"title":"Too Many Requests","detail":"Too Many Requests"}"#,
            kind: .rateLimited, replyStatus: 429),
        Row(status: 500, body: "Internal Server Error", kind: .retryable, replyStatus: 502),
        Row(status: 503, headers: [("Retry-After", "30")], body: #"{"title":"Service Unavailable"}"#, kind: .retryable, replyStatus: 502),
        Row(status: 408, body: "", kind: .retryable, replyStatus: 502),
        Row(status: 403, body: #"{"detail":"You are not allowed to create a Tweet with duplicate content.","title":"Forbidden"}"#,
            kind: .permanent, replyStatus: 409),
        Row(status: 403, body: #"{"detail":"Your Tweet text is too long.","title":"Forbidden"}"#, kind: .permanent, replyStatus: 400),
        Row(status: 403, body: #"{"detail":"You are not permitted to perform this action.","title":"Forbidden"}"#,
            kind: .permanent, replyStatus: 403),
        Row(status: 400, body: #"{"errors":[{"message":"The `text` field is required"}],"title":"Invalid Request"}"#,
            kind: .permanent, replyStatus: 400),
        Row(status: 400, body: #"{"errors":[{"code":88,"message":"Rate limit exceeded"}]}"#, kind: .rateLimited, replyStatus: 429),
        Row(status: 404, body: #"{"title":"Not Found Error"}"#, kind: .permanent, replyStatus: 404),
    ]

    @Test(arguments: table)
    func classifies(row: Row) {
        let result = TwitterResponseClassifier.classify(status: row.status, headers: row.headers, body: Data(row.body.utf8), now: Self.now)
        #expect(result.kind == row.kind)
        #expect(result.replyStatus == row.replyStatus)
    }

    @Test func rateLimitWaitsForTheReset() {
        let result = TwitterResponseClassifier.classify(
            status: 429, headers: [("x-rate-limit-reset", "1795601100")], body: Data(), now: Self.now)
        #expect(result.retryAt == Date(timeIntervalSince1970: 1_795_601_100))
    }

    @Test func retryAfterWinsOverTheResetHeader() {
        let result = TwitterResponseClassifier.classify(
            status: 429, headers: [("Retry-After", "15"), ("x-rate-limit-reset", "1795601100")], body: Data(), now: Self.now)
        #expect(result.retryAt == Self.now.addingTimeInterval(15))
    }

    @Test func messagesComeFromTheProblemDocument() {
        let result = TwitterResponseClassifier.classify(
            status: 400, headers: [], body: Data(#"{"detail":"One or more parameters to your request was invalid."}"#.utf8), now: Self.now)
        #expect(result.message == "One or more parameters to your request was invalid.")
    }

    @Test func retryAfterAsHTTPDate() {
        let date = ResponseClassification.retryAfter([("Retry-After", "Wed, 25 Nov 2026 10:01:00 GMT")], now: Self.now)
        #expect(date == Self.now.addingTimeInterval(60))
    }
}
