import AsyncHTTPClient
import NIOCore
import RelayProviders
import Testing

/// The outbound clients' configuration (provider calls, media, callbacks).
@Suite struct RelayClientConfigurationTests {
    /// No spans: PushRelay bootstraps no tracer, and AsyncHTTPClient's spans of the global no-op tracer (their
    /// attributes computed for every request) were ~2 % of the engine's CPU per event.
    @Test func makesNoSpans() {
        #expect(HTTPClient.Configuration.relay().tracing.tracer == nil)
    }

    @Test func connectsWithinTenSecondsAndReadsWithinTwoMinutes() {
        let timeout = HTTPClient.Configuration.relay().timeout
        #expect(timeout.connect == .seconds(10))
        #expect(timeout.read == .seconds(120))
    }
}
