import Foundation
import Testing

@testable import RelayProviders

/// The decision table of providers.md §5.6.
@Suite struct YouTubeResponseClassifierTests {
    static let now = Date(timeIntervalSince1970: 1_795_600_800)  // 2026-11-25 10:00 UTC = 02:00 Pacific

    static func body(_ status: Int, _ reason: String) -> String {
        #"{"error":{"code":\#(status),"message":"\#(reason) happened","errors":[{"domain":"youtube.api","reason":"\#(reason)"}]}}"#
    }

    @Test(arguments: [
        (200, "", ResponseClassification.Kind.success, 200),
        (401, "authError", .tokenRejected, 403),
        (401, "youtubeSignupRequired", .permanent, 403),
        (403, "quotaExceeded", .rateLimited, 429),
        (403, "rateLimitExceeded", .rateLimited, 429),
        (403, "userRateLimitExceeded", .rateLimited, 429),
        (400, "uploadLimitExceeded", .rateLimited, 429),
        (403, "forbidden", .permanent, 403),
        (400, "invalidTitle", .permanent, 400),
        (404, "playlistNotFound", .permanent, 404),
        (409, "videoAlreadyInPlaylist", .permanent, 409),
        (503, "backendError", .retryable, 502),
    ])
    func classifies(status: Int, reason: String, kind: ResponseClassification.Kind, reply: Int) {
        let result = YouTubeResponseClassifier.classify(status: status, headers: [], body: Data(Self.body(status, reason).utf8), now: Self.now)
        #expect(result.kind == kind)
        #expect(result.replyStatus == reply)
    }

    @Test func quotaResetsAtPacificMidnight() {
        let result = YouTubeResponseClassifier.classify(status: 403, headers: [], body: Data(Self.body(403, "quotaExceeded").utf8), now: Self.now)
        #expect(result.retryAt == Date(timeIntervalSince1970: 1_795_680_000))  // 2026-11-26 00:00 PST = 08:00 UTC
    }

    @Test func acknowledgedRange() {
        #expect(YouTubeAdapter.acknowledged(ProviderResponse(status: 308, headers: [("Range", "bytes=0-8388607")], body: Data())) == 8_388_607)
        #expect(YouTubeAdapter.acknowledged(ProviderResponse(status: 308, headers: [], body: Data())) == nil)
    }
}
