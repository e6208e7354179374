import HTTPTypes
import RelayCore

/// A refusal whose answer carries headers of its own: `Allow` on a 405 (RFC 9110 §15.5.6), `WWW-Authenticate` on
/// a 401 of the API key routes (§11.6.1). `EnvelopeMiddleware` renders `error` in the envelope and adds `headers`.
struct RefusalWithHeaders: Error {
    let error: RelayError
    let headers: HTTPFields

    /// Missing or wrong API key credentials: HTTP Basic is the scheme to use. (Webhooks are signed instead,
    /// and their 401s say how, without this header.)
    static let basicAuthentication = RefusalWithHeaders(
        error: .unauthorized(), headers: [.wwwAuthenticate: #"Basic realm="PushRelay", charset="UTF-8""#])
}
