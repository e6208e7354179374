import RelayEngine
import Testing

@testable import RelayHTTP

/// The `Prefer` header (RFC 7240) that picks between answering after the commit and waiting for the outcome.
@Suite struct PreferHeaderTests {
    @Test(arguments: [
        (["respond-async"], PublishIntake.Mode?.some(.queue)),
        ([" Respond-Async , wait=10"], .some(.queue)),
        (["return=minimal", "respond-async"], .some(.queue)),
        (["wait=5"], .some(.wait)),
        (["\tWAIT = 5"], .some(.wait)),
        (["handling=lenient"], nil),
        (["respond-asynchronously"], nil),
        ([], nil),
    ])
    func preferencesPickTheMode(header: [String], mode: PublishIntake.Mode?) {
        #expect(PushController.mode(header) == mode)
    }
}
