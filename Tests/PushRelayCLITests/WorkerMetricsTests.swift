import Foundation
import RelayStore
import ServeProcess
import TestSupport
import Testing

/// A worker-only process (`PUSHRELAY_ROLE=worker`) has no API listener; with `PUSHRELAY_METRICS_PORT` it
/// listens for health and metrics only, and the engine's counters of that process are there.
@Suite struct WorkerMetricsTests {
    @Test func aWorkerOnlyProcessIsScrapedOnItsMetricsPort() async throws {
        let env = try await TestEnvironment.shared.value
        let database = try await TestDatabase.create(logger: env.logger)
        var variables = RelayProcess.variables(for: env, database: database, encryptionKey: CredentialCipher.generateKey())
        variables["PUSHRELAY_ROLE"] = "api"
        let api = try await RelayProcess.start(variables, name: "metrics-api")
        defer { api.signal(SIGTERM) }
        variables["PUSHRELAY_ROLE"] = "worker"
        variables["PUSHRELAY_METRICS_PORT"] = "0"
        let worker = try await RelayProcess.start(variables, name: "metrics-worker")
        defer { worker.signal(SIGTERM) }

        #expect(try await env.send(.GET, "/healthz", authenticated: false, base: worker.baseURL).status == 200)
        #expect(try await env.send(.GET, "/readyz", authenticated: false, base: worker.baseURL).status == 200)
        let identity = try await env.connectIdentity(base: api.baseURL)
        #expect(
            try await env.push(identity, "twitter/post", #"{"request":{"push":{"post":{"message":"hi"}}}}"#, base: worker.baseURL).status
                == 404,
            "the metrics listener serves the API")
        // The API process has no worker: the worker-only process makes every try of this database.
        for number in 0..<3 {
            let reply = try await env.push(
                identity, "twitter/post", #"{"request":{"push":{"post":{"message":"scraped \#(number)"}}}}"#, base: api.baseURL)
            #expect(reply.status == 200)
        }
        let scraped = try await env.send(.GET, "/metrics", authenticated: false, base: worker.baseURL)
        #expect(scraped.status == 200)
        #expect(scraped.text.contains(#"pushrelay_publish_tries_total{provider="twitter",outcome="succeeded"} 3"#), "\(scraped.text)")
        #expect(scraped.text.contains("pushrelay_database_up 1"))
    }
}
