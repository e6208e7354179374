import AsyncHTTPClient
import Foundation
import RelayCore
import RelayProviders
import Testing
import TestSupport

/// The media fetcher against real HTTP (the sandbox's media origin): address rules, redirects, sizes, types.
@Suite struct MediaFetcherTests {
    static let pictures = MediaLimits(what: "test picture", types: [.jpeg: 1_000_000, .png: 1_000_000])

    /// The relay's client configuration: it follows no redirect itself.
    static let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .relay())

    /// Opens and reads the media; returns the refusal, or nil when it was fetched.
    func refusal(_ url: String, allowPrivate: Bool = true, limits: MediaLimits = pictures) async throws -> RelayError? {
        let fetcher = MediaFetcher(http: Self.http, policy: AddressPolicy(allowPrivate: allowPrivate))
        do {
            let media = try await fetcher.open(url, field: "picture.url", limits: limits)
            _ = try await media.collect()
            return nil
        } catch {
            guard case .failed(let relayError) = error.outcome else { return RelayError(status: 0, info: "not a failure: \(error.outcome)") }
            return relayError
        }
    }

    @Test func aNameResolvingToLoopbackIsRefused() async throws {
        let env = try await TestEnvironment.shared.value
        let url = env.sandbox.mediaURL("a.jpg").replacingOccurrences(of: "127.0.0.1", with: "localhost")
        let error = try #require(try await refusal(url, allowPrivate: false))
        #expect(error.status == 400)
        #expect(error.info.contains("picture.url points to"))
        #expect(error.info.contains("127.0.0.1") || error.info.contains("::1"))
    }

    @Test(arguments: ["http://127.0.0.1:9/a.jpg", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/a.jpg", "http://10.0.0.1/a.jpg"])
    func insideAddressesAreRefusedBeforeAnyConnection(url: String) async throws {
        let error = try #require(try await refusal(url, allowPrivate: false))
        #expect(error.status == 400)
        #expect(error.info.contains("does not fetch from inside its network"))
    }

    @Test func aRedirectIsCheckedAtEveryHop() async throws {
        let env = try await TestEnvironment.shared.value
        // With private addresses allowed, three redirects are followed and a fourth is refused.
        #expect(try await refusal(env.sandbox.mediaURL("a.jpg", query: "redirect=3")) == nil)
        let tooMany = try #require(try await refusal(env.sandbox.mediaURL("a.jpg", query: "redirect=4")))
        #expect(tooMany.info.contains("redirected more than 3 times"))
    }

    @Test func contentMustBeWhatItClaimsAndWithinTheLimit() async throws {
        let env = try await TestEnvironment.shared.value
        let mislabelled = try #require(try await refusal(env.sandbox.mediaURL("a.png", query: "content_type=image/jpeg")))
        #expect(mislabelled.info.contains("claims to be image/jpeg but its content is image/png"))
        let notMedia = try #require(try await refusal(env.sandbox.mediaURL("notes.bin")))
        #expect(notMedia.info.contains("not a recognised media file"))
        let tooBig = try #require(try await refusal(env.sandbox.mediaURL("a.jpg", bytes: 2_000_000)))
        #expect(tooBig.info.contains("larger than the 1000000-byte limit"))
        let tooBigUndeclared = try #require(try await refusal(env.sandbox.mediaURL("a.jpg", bytes: 2_000_000, query: "nolength=1")))
        #expect(tooBigUndeclared.info.contains("larger than the 1000000-byte limit"))
        let wrongKind = try #require(try await refusal(env.sandbox.mediaURL("a.gif")))
        #expect(wrongKind.info.contains("must be one of image/jpeg, image/png"))
        let missing = try #require(try await refusal(env.sandbox.mediaURL("a.jpg", query: "status=404")))
        #expect(missing.info.contains("HTTP 404"))
    }

    /// A server trickling its bytes is given up once it has sent too little for the rule's window of waiting
    /// (a minute in production; half a second here), as a failure to retry, not after the fetch's two hours.
    @Test func aStallingServerIsGivenUp() async throws {
        let env = try await TestEnvironment.shared.value
        let fetcher = MediaFetcher(
            http: Self.http, policy: AddressPolicy(allowPrivate: true), stall: .init(window: .milliseconds(500), minimumBytes: 1024))
        do {
            // Given up while its first bytes are read (a loaded machine) or later: either way, the same refusal.
            let media = try await fetcher.open(
                env.sandbox.mediaURL("a.jpg", bytes: 4096, query: "trickle_ms=50"), field: "picture.url", limits: Self.pictures)
            _ = try await media.collect()
            Issue.record("a trickled picture was read to its end")
        } catch {
            guard case .retry(let relayError, _, _) = error.outcome else { Issue.record("not a retry: \(error.outcome)"); return }
            #expect(relayError.info.contains("picture.url is too slow: its server sent"), "\(relayError.info)")
        }
        // The same rule lets a server that keeps up through.
        #expect(try await MediaFetcher(
            http: Self.http, policy: AddressPolicy(allowPrivate: true), stall: .init(window: .milliseconds(500), minimumBytes: 1024)
        ).open(env.sandbox.mediaURL("b.jpg", bytes: 200_000), field: "picture.url", limits: Self.pictures).collect().readableBytes == 200_000)
    }

    @Test func aLargeVideoStreamsInChunks() async throws {
        let env = try await TestEnvironment.shared.value
        let fetcher = MediaFetcher(http: Self.http, policy: AddressPolicy(allowPrivate: true))
        let media = try await fetcher.open(
            env.sandbox.mediaURL("big.mp4", bytes: 200_000_000), field: "video.url", limits: MediaLimits(what: "video", types: [.mp4: 1 << 30]))
        #expect(media.type == .mp4)
        #expect(media.declaredLength == 200_000_000)
        var total = 0
        var largest = 0
        while let chunk = try await media.nextChunk(size: 8 << 20) {
            total += chunk.readableBytes
            largest = max(largest, chunk.readableBytes)
        }
        #expect(total == 200_000_000)
        #expect(largest == 8 << 20)
    }
}
