import Hummingbird

/// The request context of PushRelay's API: Hummingbird's basics plus the authenticated API key.
public struct RelayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `APIKeyAuthenticator` on routes that need a key.
    public var apiKeyID: Int64?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// DESIGN §2: request bodies are limited to 1 MiB.
    public var maxUploadSize: Int { RelayRequestContext.bodyLimit }
    public static let bodyLimit = 1 << 20
}
