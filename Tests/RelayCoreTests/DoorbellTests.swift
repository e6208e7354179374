import RelayCore
import Testing

/// The doorbell the claim loops and synchronous requests wait on (it had no test of its own).
@Suite struct DoorbellTests {
    @Test func aRingBeforeTheWaitIsRememberedOnce() async {
        let bell = Doorbell()
        bell.ring()
        #expect(await bell.wait(upTo: .seconds(60)))
        #expect(await bell.wait(upTo: .milliseconds(10)) == false)
    }

    @Test func aRingWakesTheWaiter() async {
        let bell = Doorbell()
        async let rung = bell.wait(upTo: .seconds(60))
        bell.ring()  // before or during the wait: either way it ends rung
        #expect(await rung)
    }

    @Test func aWaitEndsAtItsDeadlineUnrung() async {
        let bell = Doorbell()
        #expect(await bell.wait(upTo: .milliseconds(50)) == false)
        // The deadline of that wait does not end the next one: only a ring does.
        async let next = bell.wait(upTo: .seconds(60))
        bell.ring()
        #expect(await next)
    }

    @Test func aCancelledWaitEndsUnrung() async {
        let bell = Doorbell()
        let waiting = Task { await bell.wait(upTo: .seconds(60)) }
        waiting.cancel()
        #expect(await waiting.value == false)
        // The bell was not rung by it: a ring now is kept for the next wait.
        bell.ring()
        #expect(await bell.wait(upTo: .milliseconds(10)))
    }
}
