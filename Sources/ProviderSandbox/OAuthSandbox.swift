import Foundation
import Hummingbird
import RelayCore

/// The providers' OAuth token endpoints, for token refresh (providers.md §1.4, §2.4, §3.4, §4.4, §5.5).
///
/// Each validates the request the way its provider does (grant type, refresh token, client credentials
/// in the form or in a Basic header) and answers its provider's token shape. Issued tokens are derived
/// from the refresh token (`<refresh>~access`, `<refresh>~next`), so a test knows which token to expect.
/// A revoked refresh token is scripted as a fault on its token, like any other failure.
enum OAuthSandbox {
    /// The path of each provider's token endpoint under its sandbox prefix.
    static let paths: [Provider: String] = [
        .twitter: "/2/oauth2/token", .pinterest: "/v5/oauth/token", .linkedin: "/oauth/v2/accessToken",
        .youtube: "/token", .facebook: "/oauth/access_token",
    ]

    /// Answers when `call` is a token request of `provider`, else nil.
    static func handle(_ provider: Provider, _ call: SandboxCall) -> Response? {
        guard let path = paths[provider] else { return nil }
        if provider == .facebook {
            // Graph API: GET /vNN.0/oauth/access_token?grant_type=fb_exchange_token&…
            guard call.method == "GET", call.path.hasSuffix(path), call.path.wholeMatch(of: /\/v[0-9]+\.[0-9]+\/oauth\/access_token/) != nil
            else { return nil }
            return facebook(call)
        }
        guard call.path == path else { return nil }
        guard call.method == "POST" else { return error(provider, 405, "invalid_request", "The token endpoint takes POST") }
        guard let form = call.urlEncoded else {
            return error(provider, 400, "invalid_request", "The body must be application/x-www-form-urlencoded")
        }
        guard form["grant_type"] == "refresh_token" else {
            return error(provider, 400, "unsupported_grant_type", "grant_type must be refresh_token")
        }
        guard let refreshToken = form["refresh_token"], !refreshToken.isEmpty else {
            return error(provider, 400, "invalid_request", "Missing required parameter: refresh_token")
        }
        switch provider {
        case .twitter:
            guard let id = form["client_id"] ?? call.basicCredentials?.split(separator: ":").first.map(String.init), !id.isEmpty else {
                return error(provider, 400, "invalid_request", "Missing required parameter [client_id].")
            }
            return Response.json(200, [
                "token_type": "bearer", "expires_in": 7200, "access_token": .string(refreshToken + "~access"),
                "scope": "tweet.read tweet.write users.read media.write offline.access", "refresh_token": .string(refreshToken + "~next"),
            ])
        case .pinterest:
            guard let basic = call.basicCredentials, basic.split(separator: ":").count == 2 else {
                return error(provider, 401, "invalid_client", "Authentication failed: the client_id:client_secret Basic header is required")
            }
            return Response.json(200, [
                "access_token": .string(refreshToken + "~access"), "token_type": "bearer", "expires_in": 2_592_000,
                "scope": "boards:read,boards:write,pins:read,pins:write", "refresh_token": .string(refreshToken + "~next"),
                "refresh_token_expires_in": 31_536_000, "response_type": "refresh_token",
            ])
        default:
            guard form["client_id"]?.isEmpty == false, form["client_secret"]?.isEmpty == false else {
                return error(provider, 401, "invalid_client", "client_id and client_secret are required")
            }
            if provider == .youtube {
                return Response.json(200, [
                    "access_token": .string(refreshToken + "~access"), "expires_in": 3599,
                    "scope": "https://www.googleapis.com/auth/youtube", "token_type": "Bearer",
                ])
            }
            return Response.json(200, [
                "access_token": .string(refreshToken + "~access"), "expires_in": 5_184_000, "refresh_token": .string(refreshToken + "~next"),
                "refresh_token_expires_in": 31_536_000, "scope": "w_member_social,w_organization_social",
            ])
        }
    }

    static func facebook(_ call: SandboxCall) -> Response {
        guard call.query["grant_type"] == "fb_exchange_token" else {
            return error(.facebook, 400, "OAuthException", "grant_type must be fb_exchange_token")
        }
        guard call.query["client_id"]?.isEmpty == false, call.query["client_secret"]?.isEmpty == false else {
            return error(.facebook, 400, "OAuthException", "Missing client_id or client_secret")
        }
        guard let token = call.query["fb_exchange_token"], !token.isEmpty else {
            return error(.facebook, 400, "OAuthException", "Missing fb_exchange_token")
        }
        return Response.json(200, ["access_token": .string(token + "~access"), "token_type": "bearer", "expires_in": 5_183_944])
    }

    /// Each provider's OAuth error shape.
    static func error(_ provider: Provider, _ status: Int, _ code: String, _ description: String) -> Response {
        switch provider {
        case .pinterest:
            return Response.json(status, ["code": 1, "message": .string(description)])
        case .facebook:
            return Response.json(status, ["error": ["message": .string(description), "type": "OAuthException", "code": 190]])
        default:
            return Response.json(status, ["error": .string(code), "error_description": .string(description)])
        }
    }
}
