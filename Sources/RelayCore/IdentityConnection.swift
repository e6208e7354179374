import Foundation

/// The `data` of an identity-connected webhook, validated (DESIGN §3).
public struct IdentityConnection: Sendable {
    /// A page, organization, channel or board the identity may publish to.
    public struct Account: Sendable, Hashable {
        public enum Kind: String, Sendable, CaseIterable { case page, group, organization, channel, board }
        public var kind: Kind
        public var id: String
        public var name: String
        /// Its own token where the provider has one (a Facebook page token).
        public var accessToken: String?
    }

    public var identityToken: UUID?
    public var userToken: String?
    public var provider: Provider
    public var providerUserID: String
    public var displayName: String
    public var credentials: Credentials
    public var expiresAt: Date?
    public var scope: String?
    public var accounts: [Account]

    /// Validates the webhook body `{"type":"identity.connected","data":{…}}`.
    public static func parse(_ body: JSONValue) throws(RelayError) -> IdentityConnection {
        let data = try WebhookBody.data(body, type: "identity.connected")
        let identityToken: UUID?
        if let text = try data.string("identity_token") {
            guard let uuid = UUID(text: text) else { throw .badRequest("data.identity_token must be a UUID") }
            identityToken = uuid
        } else {
            identityToken = nil
        }
        let providerName = try data.requiredString("provider")
        guard let provider = Provider(rawValue: providerName.lowercased()) else {
            throw .badRequest(
                "data.provider must be one of \(Provider.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(providerName)\"")
        }
        guard let providerUserID = try data.identifier("provider_user_id") else {
            throw .badRequest("data.provider_user_id is required")
        }
        let credentials = try data.requiredObject("credentials")
        var expiresAt: Date?
        if let text = try credentials.string("expires_at") {
            guard let date = RFC3339.parse(text) else {
                throw .badRequest("data.credentials.expires_at must be an RFC 3339 date-time or null")
            }
            expiresAt = date
        }
        var accounts: [Account] = []
        if let member = data.present("accounts") {
            guard case .array(let items) = member else {
                throw .badRequest("data.accounts must be an array, got \(member.typeName)")
            }
            for (index, item) in items.enumerated() {
                guard case .object = item else { throw .badRequest("data.accounts[\(index)] must be an object") }
                let account = FieldReader(item, path: "data.accounts[\(index)]")
                let kindName = try account.requiredString("kind")
                guard let kind = Account.Kind(rawValue: kindName) else {
                    throw .badRequest(
                        "data.accounts[\(index)].kind must be one of \(Account.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard let id = try account.identifier("id") else { throw .badRequest("data.accounts[\(index)].id is required") }
                accounts.append(
                    Account(kind: kind, id: id, name: try account.string("name") ?? "", accessToken: try account.string("access_token")))
            }
        }
        return IdentityConnection(
            identityToken: identityToken,
            userToken: try data.identifier("user_token"),
            provider: provider,
            providerUserID: providerUserID,
            displayName: try data.string("display_name") ?? "",
            credentials: Credentials(
                accessToken: try credentials.requiredString("access_token"),
                accessTokenSecret: try credentials.string("access_token_secret"),
                refreshToken: try credentials.string("refresh_token")),
            expiresAt: expiresAt,
            scope: try credentials.string("scope"),
            accounts: accounts)
    }

    /// The body as it may be stored: every token removed (they are kept only as ciphertext).
    public static func redacted(_ body: JSONValue) -> JSONValue {
        guard let data = body["data"] else { return body }
        var cleaned = data.removing("credentials")
        if case .array(let accounts)? = data["accounts"] {
            cleaned = cleaned.setting("accounts", to: .array(accounts.map { $0.removing("access_token") }))
        }
        return body.setting("data", to: cleaned)
    }
}

/// The common shape of inbound webhook bodies: `{"type":"…","data":{…}}`.
public enum WebhookBody {
    public static func data(_ body: JSONValue, type: String) throws(RelayError) -> FieldReader {
        guard case .object = body else {
            throw .badRequest("The webhook body must be a JSON object {\"type\":\"\(type)\",\"data\":{…}}")
        }
        let root = FieldReader(body, path: "")
        if let given = try root.string("type"), given != type {
            throw .badRequest("type must be \"\(type)\" on this endpoint, got \"\(RelayError.excerpt(given))\"")
        }
        return try root.requiredObject("data")
    }

    /// `data.identity_token` as a UUID.
    public static func identityToken(_ data: FieldReader) throws(RelayError) -> UUID {
        let text = try data.requiredString("identity_token")
        guard let uuid = UUID(text: text) else { throw .badRequest("data.identity_token must be a UUID") }
        return uuid
    }
}
