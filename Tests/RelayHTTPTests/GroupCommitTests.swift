import Foundation
import PostgresNIO
import RelayCore
import RelayStore
import Testing
import TestSupport

/// Group commit (`PublishBatcher`): concurrent publish requests share one statement and one commit,
/// each is answered with its own outcome, and idempotency holds inside a batch.
@Suite struct GroupCommitTests {
    func publish(_ identity: TestIdentity, _ text: String, key: String? = nil) throws -> NewPublish {
        let route = try #require(MatchedOperation.match("twitter/post"))
        let body: JSONValue = ["request": ["push": ["post": ["message": .string(text)]]]]
        return NewPublish(
            request: try PushRequestParser.parse(body, route: route), identityToken: try #require(UUID(uuidString: identity.token)),
            source: "push_api", idempotencyKey: key, requestHash: Data(text.utf8), apiKeyID: nil, body: body)
    }

    @Test func concurrentRequestsShareCommits() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let batcher = PublishBatcher(store: env.store)
        let publishes = try (0..<64).map { try publish(identity, "batched \($0) \(UUID())") }
        let results = try await withThrowingTaskGroup(of: RecordedEvent.self) { group in
            for item in publishes { group.addTask { try await batcher.enqueue(item) } }
            var results: [RecordedEvent] = []
            for try await result in group { results.append(result) }
            return results
        }
        let created = results.compactMap { if case .created(let id) = $0 { id } else { nil } }
        #expect(Set(created) == Set(publishes.map(\.eventID)))
        // Rows written by one transaction share its xmin: 64 requests, fewer commits.
        let rows = try await env.store.query(
            "SELECT count(DISTINCT xmin::text), count(*) FROM events WHERE id = ANY(\(publishes.map(\.eventID)))", logger: env.logger)
        for try await (transactions, count) in rows.decode((Int, Int).self) {
            #expect(count == 64)
            #expect(transactions < 64)
        }
        for id in created.prefix(3) {
            #expect(try await env.finalEvent(id.uuidString.lowercased())["state"] == "succeeded")
        }
    }

    @Test func aRepeatedKeyInsideOneBatchCreatesOneEvent() async throws {
        let env = try await TestEnvironment.shared.value
        let identity = try await env.connectIdentity()
        let key = "push:group-\(UUID())"
        let first = try publish(identity, "same", key: key)
        let second = try publish(identity, "same", key: key)
        let results = try await env.store.events.enqueue([first, second])
        let outcomes = try results.map { try $0.get() }
        guard case .created(let id) = outcomes[0], case .existing(let existing, let sameRequest) = outcomes[1] else {
            Issue.record("expected created then existing: \(outcomes)")
            return
        }
        #expect(existing == id)
        #expect(sameRequest)
    }
}
