import AsyncHTTPClient
import NIOCore

extension HTTPClient.Configuration {
    /// The configuration of the relay's outbound clients (provider calls, media, callbacks): no redirects
    /// followed (a redirect is an answer; the media fetcher follows them itself, checking each address),
    /// connect within 10 s, read timeout 120 s, and no tracing spans.
    ///
    /// PushRelay bootstraps no tracer, and AsyncHTTPClient otherwise wraps every request in a span of the
    /// global no-op tracer and computes its attributes (the URL taken apart, the method, the status): about
    /// 2 % of the engine's CPU per event in a profile, for spans that go nowhere.
    public static func relay() -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(120))
        configuration.tracing.tracer = nil
        return configuration
    }
}
