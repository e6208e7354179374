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

    /// The batch checks each request's identity: the refused ones are not written and do not hold back the others.
    @Test func anIdentityThatCannotPublishIsRefusedAloneInItsBatch() async throws {
        let env = try await TestEnvironment.shared.value
        let good = try await env.connectIdentity()
        let unknown = TestIdentity(token: UUID().uuidString.lowercased(), accessToken: "none")
        let gone = try await env.connectIdentity()
        let disconnected = try await env.webhook(
            "identity-disconnected", body: #"{"type":"identity.disconnected","data":{"identity_token":"\#(gone.token)"}}"#)
        #expect(disconnected.status == 202)
        let facebook = try await env.connectIdentity(provider: "facebook")

        let facebookRoute = try #require(MatchedOperation.match("facebook/post"))
        let facebookBody: JSONValue = ["request": ["push": ["post": ["message": "wrong provider"]]]]
        let onFacebookRoute = NewPublish(
            request: try PushRequestParser.parse(facebookBody, route: facebookRoute), identityToken: try #require(UUID(uuidString: good.token)),
            source: "push_api", idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: facebookBody)
        let batch = [
            try publish(good, "fine 1"), try publish(unknown, "unknown"), try publish(gone, "disconnected"),
            try publish(facebook, "x route for a facebook identity"), onFacebookRoute, try publish(good, "fine 2"),
        ]
        let results = try await env.store.events.enqueue(batch)
        #expect(results.count == 6)
        func refusal(_ index: Int) -> IdentityNotStanding? {
            if case .failure(let error) = results[index] { error as? IdentityNotStanding } else { nil }
        }
        for index in [0, 5] {
            guard case .success(.created(let id)) = results[index] else {
                Issue.record("\(index) should be created: \(results[index])")
                continue
            }
            #expect(id == batch[index].eventID)
        }
        #expect(try #require(refusal(1)).standing == nil)
        #expect(try #require(refusal(2)).standing == nil)
        #expect(try #require(refusal(3)).standing == IdentityStanding(provider: .facebook, state: "connected"))
        #expect(try #require(refusal(4)).standing == IdentityStanding(provider: .twitter, state: "connected"))
        let rows = try await env.store.query(
            "SELECT count(*)::int FROM events WHERE id = ANY(\(batch.map(\.eventID)))", logger: env.logger)
        for try await count in rows.decode(Int.self) { #expect(count == 2, "only the two requests of a standing identity are written") }
    }
}
