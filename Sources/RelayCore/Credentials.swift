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

/// A page, organization, channel or board of an identity, as an adapter needs it: with its own token
/// (a Facebook page token) when the provider gave one.
public struct PublishAccount: Sendable, Hashable, CustomStringConvertible {
    public var kind: String
    public var id: String
    public var name: String
    public var accessToken: String?

    public init(kind: String, id: String, name: String, accessToken: String?) {
        self.kind = kind
        self.id = id
        self.name = name
        self.accessToken = accessToken
    }

    public var description: String { "PublishAccount(\(kind) \(id), token: \(accessToken == nil ? "none" : "<redacted>"))" }
}
