import AsyncHTTPClient
import Foundation
import NIOCore
import RelayCore

/// Renews an identity's access token through its provider's OAuth endpoint, once, when the provider
/// rejected it or it is known to have expired (DESIGN §5).
///
/// Each provider takes the refresh differently (providers.md §1.4, §2.4, §3.4, §4.4, §5.5); the shapes
/// live here together so the engine only asks "refresh this". A refusal (revoked or expired refresh
/// token) ends as `tokenRejected`: the identity then needs its user to reconnect.
public struct TokenRefresher: Sendable {
    /// The OAuth client PushRelay is registered as with one provider.
    public struct Client: Sendable {
        public var tokenURL: String
        public var clientID: String
        public var clientSecret: String?

        public init(tokenURL: String, clientID: String, clientSecret: String?) {
            self.tokenURL = tokenURL
            self.clientID = clientID
            self.clientSecret = clientSecret
        }
    }

    /// What a refresh gives: the new tokens (a provider that sends no new refresh token keeps the old one).
    public struct Refreshed: Sendable {
        public var credentials: Credentials
        public var expiresAt: Date?
    }

    let clients: [Provider: Client]

    public init(clients: [Provider: Client]) {
        self.clients = clients
    }

    /// The clients of the providers whose `PUSHRELAY_<P>_CLIENT_ID` is set.
    public init(configuration: Configuration) {
        var clients: [Provider: Client] = [:]
        for (provider, endpoint) in configuration.providers {
            guard let id = endpoint.clientID else { continue }
            clients[provider] = Client(tokenURL: endpoint.oauthURL, clientID: id, clientSecret: endpoint.clientSecret)
        }
        self.clients = clients
    }

    /// Why a refresh cannot even be tried, or nil when it can.
    public func obstacle(_ provider: Provider, _ credentials: Credentials) -> String? {
        guard let client = clients[provider] else {
            return "no OAuth client is configured for \(provider.displayName) (PUSHRELAY_\(provider.environmentName)_CLIENT_ID)"
        }
        switch provider {
        case .facebook:
            return client.clientSecret == nil ? "Facebook token exchange needs PUSHRELAY_FACEBOOK_CLIENT_SECRET" : nil
        case .pinterest, .linkedin, .youtube:
            if client.clientSecret == nil { return "\(provider.displayName) refresh needs PUSHRELAY_\(provider.environmentName)_CLIENT_SECRET" }
            return credentials.refreshToken == nil ? "the identity has no refresh token" : nil
        case .twitter:
            return credentials.refreshToken == nil ? "the identity has no refresh token (OAuth 2.0 scope offline.access)" : nil
        }
    }

    /// Calls the provider's token endpoint. Throws the outcome of the try when it does not succeed.
    public func refresh(_ provider: Provider, _ credentials: Credentials, session: ProviderSession) async throws(PublishStop) -> Refreshed {
        if let obstacle = obstacle(provider, credentials) {
            throw PublishStop(.tokenRejected(RelayError(status: 403, info: "\(provider.displayName) refused the access token and it cannot be refreshed: \(obstacle)")))
        }
        let request = Self.request(provider, credentials, client: clients[provider]!)
        let response = try await session.call(
            ProviderStep("oauth.refresh", recordsAnswer: false), request, summary: ["grant_type": .string(provider == .facebook ? "fb_exchange_token" : "refresh_token")],
            provider: provider, classify: { answer, now in Self.classify(provider, answer, now: now) })
        guard let json = response.json, let accessToken = json["access_token"]?.stringValue, !accessToken.isEmpty else {
            throw PublishStop(.failed(RelayError(status: 502, info: "\(provider.displayName) answered the token refresh without an access_token")))
        }
        var expiresAt: Date?
        if case .integer(let seconds)? = json["expires_in"] { expiresAt = Date().addingTimeInterval(TimeInterval(seconds)) }
        let renewed = Credentials(
            accessToken: accessToken, accessTokenSecret: credentials.accessTokenSecret,
            refreshToken: json["refresh_token"]?.stringValue ?? credentials.refreshToken)
        return Refreshed(credentials: renewed, expiresAt: expiresAt)
    }

    /// The token request of each provider.
    static func request(_ provider: Provider, _ credentials: Credentials, client: Client) -> HTTPClientRequest {
        func form(_ fields: [(String, String)]) -> String {
            fields.map { "\($0.0)=\(percentEncoded($0.1))" }.joined(separator: "&")
        }
        func basic() -> String {
            "Basic " + Data("\(client.clientID):\(client.clientSecret ?? "")".utf8).base64EncodedString()
        }
        let refreshToken = credentials.refreshToken ?? ""
        if provider == .facebook {
            // Facebook has no refresh token: a still-valid user token is exchanged for a long-lived one.
            let query = form([
                ("grant_type", "fb_exchange_token"), ("client_id", client.clientID), ("client_secret", client.clientSecret ?? ""),
                ("fb_exchange_token", credentials.accessToken),
            ])
            var request = HTTPClientRequest(url: client.tokenURL + "?" + query)
            request.method = .GET
            return request
        }
        var request = HTTPClientRequest(url: client.tokenURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let body: String
        switch provider {
        case .twitter:
            body = form([("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", client.clientID)])
            if client.clientSecret != nil { request.headers.add(name: "Authorization", value: basic()) }
        case .pinterest:
            body = form([("grant_type", "refresh_token"), ("refresh_token", refreshToken)])
            request.headers.add(name: "Authorization", value: basic())
        default:  // LinkedIn and Google take the client in the form
            body = form([
                ("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", client.clientID),
                ("client_secret", client.clientSecret ?? ""),
            ])
        }
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    /// A token endpoint's answer: 400/401/403 mean the grant is refused (revoked, expired, wrong client).
    static func classify(_ provider: Provider, _ response: ProviderResponse, now: Date) -> ResponseClassification {
        let json = response.json
        let message =
            json?["error_description"]?.stringValue ?? json?["error"]?["message"]?.stringValue ?? json?["message"]?.stringValue
            ?? json?["error"]?.stringValue ?? "HTTP \(response.status)"
        switch response.status {
        case 200..<300: return ResponseClassification(kind: .success, message: "OK", replyStatus: 200)
        case 400, 401, 403:
            return ResponseClassification(
                kind: .tokenRejected, message: "the token refresh was refused (\(message)); the identity must be reconnected",
                replyStatus: 403)
        case 429:
            return ResponseClassification(
                kind: .rateLimited, message: message, retryAt: ResponseClassification.retryAfter(response.headers, now: now), replyStatus: 429)
        case 408, 500..<600:
            return ResponseClassification(
                kind: .retryable, message: message, retryAt: ResponseClassification.retryAfter(response.headers, now: now), replyStatus: 502)
        default:
            return ResponseClassification(kind: .permanent, message: message, replyStatus: 502)
        }
    }

    static func percentEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
