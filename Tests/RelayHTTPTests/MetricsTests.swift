import Foundation
import Hummingbird
import PostgresNIO
import ProviderSandbox
import RelayCore
import RelayStore
import Testing
import TestSupport

@testable import RelayHTTP

/// `GET /metrics`: Prometheus's text format, counting what the relay did. Tests share one relay and run in
/// parallel, so each reads a counter before and after its own work and expects at least its own share.
@Suite struct MetricsTests {
    /// One sample of the exposition: `name{label="value",…} number`.
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    static func samples(_ text: String) -> [Sample] {
        text.split(separator: "\n").compactMap { line -> Sample? in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                return nil
            }
            let series = line[..<space]
            guard let brace = series.firstIndex(of: "{") else { return Sample(name: String(series), labels: [:], value: value) }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)].split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
            return Sample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }

    /// The sum of the samples of `name` whose labels include `labels` (0 when there is none yet).
    static func value(_ name: String, _ labels: [String: String], in env: TestEnvironment) async throws -> Double {
        let reply = try await env.send(.GET, "/metrics", authenticated: false)
        #expect(reply.status == 200)
        return samples(reply.text).filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }.reduce(0) { $0 + $1.value }
    }

    @Test func isPrometheusTextWithoutAnAPIKey() async throws {
        let env = try await TestEnvironment.shared.value
        _ = try await env.send(.GET, "/healthz", authenticated: false)
        let reply = try await env.send(.GET, "/metrics", authenticated: false)
        #expect(reply.status == 200)
        #expect(reply.headers.first(name: "content-type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(reply.text.contains("# TYPE http_server_requests_total counter"))
        let names = Set(Self.samples(reply.text).map(\.name))
        #expect(names.contains("http_server_requests_total"))
        #expect(names.allSatisfy { $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } })
        // From 1 ms (an API answer) to 5 minutes (a large video's upload).
        let buckets = Self.samples(reply.text).filter { $0.name == "http_server_request_duration_seconds_bucket" }.compactMap { $0.labels["le"] }
        #expect(Set(buckets).isSuperset(of: ["0.001", "0.0025", "300.0", "+Inf"]))
    }

    @Test func countsRequestsByRouteAndStatus() async throws {
        let env = try await TestEnvironment.shared.value
        let refused: [String: String] = ["http_request_method": "POST", "http_response_status_code": "404"]
        let before = try await Self.value("http_server_requests_total", refused, in: env)
        let unknown = UUID().uuidString.lowercased()
        let reply = try await env.send(
            .POST, "/push/identities/\(unknown)/twitter/post.json", body: #"{"request":{"push":{"post":{"message":"nobody"}}}}"#)
        #expect(reply.status == 404)
        #expect(try await Self.value("http_server_requests_total", refused, in: env) >= before + 1)

        // A path that matches no route counts under one label value, not under its own path.
        let nowhere = ["http_route": "NotFound", "http_request_method": "GET", "http_response_status_code": "404"]
        let strayBefore = try await Self.value("http_server_requests_total", nowhere, in: env)
        let stray = UUID().uuidString
        #expect(try await env.send(.GET, "/nowhere/\(stray)", authenticated: false).status == 404)
        let exposition = try await env.send(.GET, "/metrics", authenticated: false).text
        #expect(!exposition.contains(stray))
        #expect(try await Self.value("http_server_requests_total", nowhere, in: env) >= strayBefore + 1)
    }

    @Test func countsTriesAndProviderCallsByOutcome() async throws {
        let env = try await TestEnvironment.shared.value
        let succeeded = ["provider": "twitter", "outcome": "succeeded"]
        let failed = ["provider": "twitter", "outcome": "failed"]
        let calls = ["provider": "twitter", "outcome": "permanent"]
        let triesBefore = try await Self.value("pushrelay_publish_tries_total", succeeded, in: env)
        let failuresBefore = try await Self.value("pushrelay_publish_tries_total", failed, in: env)
        let refusedCallsBefore = try await Self.value("pushrelay_provider_request_duration_seconds_count", calls, in: env)

        let identity = try await env.connectIdentity()
        let published = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"counted \#(UUID())"}}}}"#)
        #expect(published.status == 200)
        env.sandbox.faults.add(
            SandboxFault(
                provider: "x", pathContains: "/2/tweets", token: identity.accessToken, times: 1,
                action: .respond(status: 403, body: ["title": "Forbidden", "detail": "You are not permitted to perform this action."], headers: [])))
        let refused = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"refused \#(UUID())"}}}}"#)
        #expect(refused.status == 403)

        #expect(try await Self.value("pushrelay_publish_tries_total", succeeded, in: env) >= triesBefore + 1)
        #expect(try await Self.value("pushrelay_publish_tries_total", failed, in: env) >= failuresBefore + 1)
        #expect(try await Self.value("pushrelay_provider_request_duration_seconds_count", calls, in: env) >= refusedCallsBefore + 1)
    }

    @Test func countsCallbackDeliveries() async throws {
        let env = try await TestEnvironment.shared.value
        let receiver = try await CallbackReceiver.start()
        let delivered = ["result": "delivered"]
        let before = try await Self.value("pushrelay_callback_deliveries_total", delivered, in: env)
        let identity = try await env.connectIdentity()
        let path = "/metrics-\(UUID().uuidString.lowercased())"
        let reply = try await env.push(
            identity, "twitter/post", #"{"request":{"callback_url":"\#(receiver.origin)\#(path)","push":{"post":{"message":"called back"}}}}"#)
        let eventID = try #require(reply.headers.first(name: "PushRelay-Event-Id"))
        #expect(await receiver.callbacks(path: path, eventID: eventID).count == 1)
        // The relay counts a delivery once it has read the receiver's answer, after the receiver saw it.
        let deadline = ContinuousClock.now + .seconds(30)
        var after = try await Self.value("pushrelay_callback_deliveries_total", delivered, in: env)
        while after < before + 1 && ContinuousClock.now < deadline {
            after = try await Self.value("pushrelay_callback_deliveries_total", delivered, in: env)
        }
        #expect(after >= before + 1)
    }

    /// The queues' gauges come from PostgreSQL at each scrape, for the whole database.
    @Test func showsTheQueuesDepthFromTheDatabase() async throws {
        let env = try await TestEnvironment.shared.value
        let text = try await env.send(.GET, "/metrics", authenticated: false).text
        let samples = Self.samples(text)
        #expect(samples.contains { $0.name == "pushrelay_database_up" && $0.value == 1 })
        for state in ["scheduled", "queued", "running"] {
            #expect(samples.contains { $0.name == "pushrelay_queue_jobs" && $0.labels == ["state": state] }, "no \(state) jobs gauge")
        }
        for name in ["pushrelay_queue_due_jobs", "pushrelay_queue_oldest_due_seconds", "pushrelay_callbacks_oldest_due_seconds"] {
            #expect(samples.contains { $0.name == name }, "no \(name)")
        }
        #expect(samples.filter { $0.name == "pushrelay_callbacks" }.count == 2)
    }

    /// When the queues cannot be read, the gauges are absent (not the last values seen) and
    /// `pushrelay_database_up` is 0.
    @Test func withoutTheDatabaseOnlyItsUpGaugeIsShown() {
        let samples = Self.samples(String(decoding: QueueMetrics.render(nil), as: UTF8.self))
        #expect(samples.map(\.name) == ["pushrelay_database_up"])
        #expect(samples.first?.value == 0)
    }

    /// What `Store.queueDepth()` counts, on a database of this test's own (no worker takes its jobs).
    @Test func theQueueDepthCountsWaitingWorkAndItsAge() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await PrivateDatabase.create(logger: env.logger)
        defer { database.close() }
        let store = database.store
        let empty = try await store.queueDepth()
        let counts: [Int] = [empty.jobsScheduled, empty.jobsQueued, empty.jobsRunning, empty.jobsDue, empty.callbacksPending, empty.callbacksDelivering]
        #expect(counts == [0, 0, 0, 0, 0, 0])
        #expect(empty.oldestDueJobSeconds == 0 && empty.oldestDueCallbackSeconds == 0)

        let identity = try await database.connectTwitterIdentity(userID: "depth-1", accessToken: "depth-token")
        let route = try #require(MatchedOperation.match("twitter/post"))
        func publish(_ text: String, at scheduled: Date?) throws -> NewPublish {
            var request: [(String, JSONValue)] = [("push", ["post": ["message": .string(text)]])]
            if let scheduled { request.append(("schedule", ["at": .string(RFC3339.format(scheduled))])) }
            let body: JSONValue = ["request": .object(request)]
            return NewPublish(
                request: try PushRequestParser.parse(body, route: route), identityToken: identity, source: "push_api",
                idempotencyKey: nil, requestHash: nil, apiKeyID: nil, body: body)
        }
        let tomorrow = Date().addingTimeInterval(86_400)
        let jobs = try [publish("later 1", at: tomorrow), publish("later 2", at: tomorrow), publish("now", at: nil)]
        _ = try await store.events.enqueue(jobs).map { try $0.get() }
        // The due job became due ten minutes ago; a callback for it has waited five.
        try await store.write("UPDATE publish_jobs SET run_at = now() - interval '10 minutes' WHERE event_id = \(jobs[2].eventID)", logger: env.logger)
        try await store.write(
            """
            WITH s AS (
                INSERT INTO subscriptions (url, events, secret, secret_key_id)
                VALUES ('https://subscriber.example/hook', ARRAY['push.succeeded'], '\\x00', 'test') RETURNING id)
            INSERT INTO callbacks (event_id, subscription_id, url, type, payload, next_attempt_at)
            SELECT \(jobs[2].eventID), s.id, 'https://subscriber.example/hook', 'push.succeeded', '{}', now() - interval '5 minutes' FROM s
            """, logger: env.logger)

        let depth = try await store.queueDepth()
        #expect(depth.jobsScheduled == 2)
        #expect(depth.jobsQueued == 1)
        #expect(depth.jobsRunning == 0)
        #expect(depth.jobsDue == 1, "the jobs scheduled for tomorrow are not due")
        #expect(depth.oldestDueJobSeconds >= 600)
        #expect(depth.callbacksPending == 1)
        #expect(depth.callbacksDelivering == 0)
        #expect(depth.oldestDueCallbackSeconds >= 300)
    }
}

/// `PUSHRELAY_METRICS_PORT`: a second listener with the health and metrics routes only.
@Suite struct MetricsListenerTests {
    /// Beside the API: both listeners serve `/metrics`, the metrics one serves nothing of the API.
    @Test func servesHealthAndMetricsButNotTheAPI() async throws {
        let env = try await TestEnvironment.shared.value
        let ready = try await env.startSecondRelayReady { $0.metricsPort = 0 }
        let metricsPort = try #require(ready.metricsPort)
        #expect(metricsPort != ready.port && metricsPort != 0)
        let monitoring = "http://127.0.0.1:\(metricsPort)"
        let scraped = try await env.send(.GET, "/metrics", authenticated: false, base: monitoring)
        #expect(scraped.status == 200)
        #expect(MetricsTests.samples(scraped.text).contains { $0.name == "pushrelay_database_up" && $0.value == 1 })
        #expect(try await env.send(.GET, "/healthz", authenticated: false, base: monitoring).status == 200)
        #expect(try await env.send(.GET, "/readyz", authenticated: false, base: monitoring).status == 200)
        let identity = try await env.connectIdentity()
        let refused = try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"not here"}}}}"#, base: monitoring)
        #expect(refused.status == 404)
        #expect(try await env.send(.GET, "/metrics", authenticated: false, base: "http://127.0.0.1:\(ready.port)").status == 200)
    }

    /// When the queues cannot be read (here their table is gone from a database of this test's own), the
    /// metrics listener still answers: `pushrelay_database_up 0` and no queue gauge, rather than stale values.
    @Test func aFailedQueueReadShowsTheDatabaseDown() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await PrivateDatabase.create(logger: env.logger)
        defer { database.close() }
        _ = try await database.client.query("ALTER TABLE publish_jobs RENAME TO publish_jobs_elsewhere")
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: buildMonitoringRouter(store: database.store, logger: env.logger),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: env.logger)
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        defer { server.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let reply = try await env.send(.GET, "/metrics", authenticated: false, base: "http://127.0.0.1:\(port)")
        #expect(reply.status == 200)
        let names = Set(MetricsTests.samples(reply.text).map(\.name))
        #expect(MetricsTests.samples(reply.text).contains { $0.name == "pushrelay_database_up" && $0.value == 0 })
        #expect(!names.contains("pushrelay_queue_jobs") && !names.contains("pushrelay_callbacks"))
        #expect(names.contains("http_server_requests_total"), "the process's own series do not depend on the database")
    }
}
