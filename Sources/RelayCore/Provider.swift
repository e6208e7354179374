/// The social networks PushRelay publishes to.
///
/// The raw value is the path segment OneAll clients use (`/push/identities/<token>/twitter/post.json`)
/// and the `provider` field of every reply, so it never changes.
public enum Provider: String, Sendable, Codable, CaseIterable, Hashable {
    case facebook
    case linkedin
    case pinterest
    case twitter
    case youtube

    /// The name people know the network by, used in human-readable `info` sentences.
    public var displayName: String {
        switch self {
        case .facebook: "Facebook"
        case .linkedin: "LinkedIn"
        case .pinterest: "Pinterest"
        case .twitter: "X"
        case .youtube: "YouTube"
        }
    }

    /// The `PUSHRELAY_<P>_…` prefix of this provider's configuration variables.
    public var environmentName: String { rawValue.uppercased() }
}
