import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore
import Testing

@testable import RelayProviders

/// Each provider's token request (providers.md §1.4, §2.4, §3.4, §4.4, §5.5) and the reading of its answer.
@Suite struct TokenRefresherTests {
    let credentials = Credentials(accessToken: "old-access", refreshToken: "old refresh/+")
    let client = TokenRefresher.Client(tokenURL: "https://oauth.example/token", clientID: "app", clientSecret: "s3cret")

    func form(_ provider: Provider) async throws -> (HTTPClientRequest, [String: String]) {
        let request = TokenRefresher.request(provider, credentials, client: client)
        var text = ""
        if let body = request.body {
            for try await chunk in body { text += String(buffer: chunk) }
        }
        var components = URLComponents()
        components.percentEncodedQuery = text
        let fields = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        return (request, fields)
    }

    @Test func twitterSendsTheClientIDAndBasicForConfidentialClients() async throws {
        let (request, fields) = try await form(.twitter)
        #expect(request.method == .POST)
        #expect(request.headers.first(name: "Content-Type") == "application/x-www-form-urlencoded")
        #expect(fields == ["grant_type": "refresh_token", "refresh_token": "old refresh/+", "client_id": "app"])
        #expect(request.headers.first(name: "Authorization") == "Basic " + Data("app:s3cret".utf8).base64EncodedString())
    }

    @Test func pinterestAuthenticatesWithBasicOnly() async throws {
        let (request, fields) = try await form(.pinterest)
        #expect(fields == ["grant_type": "refresh_token", "refresh_token": "old refresh/+"])
        #expect(request.headers.first(name: "Authorization") == "Basic " + Data("app:s3cret".utf8).base64EncodedString())
    }

    @Test(arguments: [Provider.linkedin, .youtube])
    func linkedinAndGooglePutTheClientInTheForm(provider: Provider) async throws {
        let (request, fields) = try await form(provider)
        #expect(
            fields == ["grant_type": "refresh_token", "refresh_token": "old refresh/+", "client_id": "app", "client_secret": "s3cret"])
        #expect(request.headers.first(name: "Authorization") == nil)
    }

    @Test func facebookExchangesTheCurrentToken() {
        let request = TokenRefresher.request(.facebook, credentials, client: client)
        #expect(request.method == .GET)
        #expect(
            request.url
                == "https://oauth.example/token?grant_type=fb_exchange_token&client_id=app&client_secret=s3cret&fb_exchange_token=old-access")
    }

    @Test func obstacles() {
        let refresher = TokenRefresher(clients: [.twitter: client, .pinterest: .init(tokenURL: "x", clientID: "app", clientSecret: nil)])
        #expect(refresher.obstacle(.twitter, credentials) == nil)
        #expect(refresher.obstacle(.twitter, Credentials(accessToken: "a"))?.contains("no refresh token") == true)
        #expect(refresher.obstacle(.pinterest, credentials)?.contains("CLIENT_SECRET") == true)
        #expect(refresher.obstacle(.youtube, credentials)?.contains("PUSHRELAY_YOUTUBE_CLIENT_ID") == true)
    }

    @Test(arguments: [
        (200, ResponseClassification.Kind.success), (400, .tokenRejected), (401, .tokenRejected), (429, .rateLimited), (503, .retryable),
    ])
    func tokenAnswers(status: Int, kind: ResponseClassification.Kind) {
        let answer = ProviderResponse(
            status: status, headers: [], body: Data(#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#.utf8))
        let result = TokenRefresher.classify(.youtube, answer, now: Date())
        #expect(result.kind == kind)
        if kind == .tokenRejected { #expect(result.message.contains("Token has been expired or revoked.")) }
    }
}
