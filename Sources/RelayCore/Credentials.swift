import Foundation

/// The provider tokens of one identity, as sent in identity-connected.
///
/// Only ever held in memory, encrypted before it is stored, and never logged: `description`
/// is redacted so a stray string interpolation cannot leak a token.
public struct Credentials: Sendable, Codable, Hashable, CustomStringConvertible {
    public var accessToken: String
    public var accessTokenSecret: String?
    public var refreshToken: String?

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case accessTokenSecret = "access_token_secret"
        case refreshToken = "refresh_token"
    }

    public init(accessToken: String, accessTokenSecret: String? = nil, refreshToken: String? = nil) {
        self.accessToken = accessToken
        self.accessTokenSecret = accessTokenSecret
        self.refreshToken = refreshToken
    }

    public var description: String { "Credentials(<redacted>)" }
}
