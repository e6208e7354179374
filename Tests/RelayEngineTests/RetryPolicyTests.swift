import Foundation
import RelayCore
import RelayStore
import Testing

@testable import RelayEngine

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(maxAttempts: 5)
    let now = Date(timeIntervalSince1970: 1_795_600_800)
    let error = RelayError(status: 502, info: "X refused the request: Internal Server Error")

    func runAt(_ transition: JobTransition) -> Date? {
        if case .requeue(let runAt, _, _) = transition { return runAt }
        return nil
    }

    @Test func finalOutcomesStayFinal() {
        if case .succeeded = policy.transition(after: .succeeded(["id": "1"]), tryNumber: 1, now: now, jitter: 0.5) {} else {
            Issue.record("success was not final")
        }
        if case .failed = policy.transition(after: .failed(error), tryNumber: 1, now: now, jitter: 0.5) {} else {
            Issue.record("failure was not final")
        }
        if case .indeterminate = policy.transition(after: .indeterminate(error), tryNumber: 1, now: now, jitter: 0.5) {} else {
            Issue.record("an indeterminate try was retried")
        }
        if case .failed = policy.transition(after: .tokenRejected(error), tryNumber: 1, now: now, jitter: 0.5) {} else {
            Issue.record("a rejected token was retried")
        }
    }

    @Test(arguments: [(1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)])
    func backoffDoublesWithoutJitter(tryNumber: Int, seconds: Double) {
        let transition = policy.transition(after: .retry(error, notBefore: nil, rateLimited: false), tryNumber: tryNumber, now: now, jitter: 0.5)
        #expect(runAt(transition) == now.addingTimeInterval(seconds))
    }

    @Test func jitterStaysWithinTwentyPercent() {
        let low = policy.transition(after: .retry(error, notBefore: nil, rateLimited: false), tryNumber: 3, now: now, jitter: 0)
        let high = policy.transition(after: .retry(error, notBefore: nil, rateLimited: false), tryNumber: 3, now: now, jitter: 1)
        #expect(runAt(low) == now.addingTimeInterval(8 * 0.8))
        #expect(runAt(high) == now.addingTimeInterval(8 * 1.2))
    }

    @Test func onlyRateLimitsPauseTheIdentity() {
        let limited = policy.transition(after: .retry(error, notBefore: now.addingTimeInterval(60), rateLimited: true), tryNumber: 1, now: now, jitter: 0.5)
        let failing = policy.transition(after: .retry(error, notBefore: nil, rateLimited: false), tryNumber: 1, now: now, jitter: 0.5)
        guard case .requeue(_, _, let pauses) = limited, case .requeue(_, _, let doesNotPause) = failing else {
            Issue.record("not requeued")
            return
        }
        #expect(pauses)
        #expect(!doesNotPause)
    }

    @Test func providerResetTimeIsHonoured() {
        let reset = now.addingTimeInterval(900)
        let transition = policy.transition(after: .retry(error, notBefore: reset, rateLimited: true), tryNumber: 1, now: now, jitter: 0.5)
        #expect(runAt(transition) == reset)
    }

    @Test func givesUpAfterTheLastAttempt() {
        let transition = policy.transition(after: .retry(error, notBefore: nil, rateLimited: false), tryNumber: 5, now: now, jitter: 0.5)
        guard case .failed(let final) = transition else {
            Issue.record("requeued after the last attempt")
            return
        }
        #expect(final.status == 502)
        #expect(final.info.contains("gave up after 5 attempts"))
    }

    @Test func backoffIsCapped() {
        let transition = policy.transition(after: .retry(error, notBefore: nil, rateLimited: false), tryNumber: 4, now: now, jitter: 0.5)
        let capped = RetryPolicy(maxAttempts: 100).transition(
            after: .retry(error, notBefore: nil, rateLimited: false), tryNumber: 40, now: now, jitter: 0.5)
        #expect(runAt(transition) == now.addingTimeInterval(16))
        #expect(runAt(capped) == now.addingTimeInterval(600))
    }
}
