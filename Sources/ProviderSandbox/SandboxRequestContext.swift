import Hummingbird
import NIOCore

/// The sandbox's request context: Hummingbird's basics plus the connection, so a scripted fault
/// can drop it after the request was read, the way a real network failure would.
public struct SandboxRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// Provider uploads (X appends, YouTube chunks) are larger than Hummingbird's 2 MB default.
    public var maxUploadSize: Int { 64 << 20 }
}
