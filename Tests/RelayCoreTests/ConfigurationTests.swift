import Testing

@testable import RelayCore

@Suite struct ConfigurationTests {
    @Test func defaultsFollowTheDesign() throws {
        let configuration = try Configuration(environment: [:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8080)
        #expect(configuration.publishMaxAttempts == 5)
        #expect(configuration.workers == 16)
        #expect(configuration.syncTimeout == .seconds(10))
        #expect(configuration.callbackRetrySchedule == [0, 5, 300, 1800, 7200, 18000, 36000, 36000])
        #expect(configuration.providers[.twitter]?.apiURL == "https://api.x.com")
        #expect(!configuration.mediaAllowPrivate)
    }

    @Test func sandboxAllowsPrivateMediaUnlessTurnedOff() throws {
        #expect(try Configuration(environment: ["PUSHRELAY_SANDBOX": "1"]).mediaAllowPrivate)
        #expect(!(try Configuration(environment: ["PUSHRELAY_SANDBOX": "1", "PUSHRELAY_MEDIA_ALLOW_PRIVATE": "0"]).mediaAllowPrivate))
    }

    @Test(arguments: [
        ("PUSHRELAY_PORT", "eighty"), ("PUSHRELAY_PORT", "70000"), ("PUSHRELAY_SYNC_TIMEOUT", "-1"),
        ("PUSHRELAY_PUBLISH_MAX_ATTEMPTS", "0"), ("PUSHRELAY_CALLBACK_RETRY_SCHEDULE", "0,soon"),
        ("PUSHRELAY_WEBHOOK_SECRET", "not-a-secret"), ("PUSHRELAY_ENCRYPTION_KEY", "c2hvcnQ="),
        ("PUSHRELAY_SANDBOX", "maybe"), ("DATABASE_URL", "mysql://x@y/z"), ("PUSHRELAY_API_KEY", "nocolon"),
        ("PUSHRELAY_TWITTER_API_URL", "api.x.com"), ("PUSHRELAY_FACEBOOK_GRAPH_VERSION", "26"),
        ("LOG_FORMAT", "xml"), ("PUSHRELAY_METRICS_PORT", "ninety"), ("PUSHRELAY_METRICS_PORT", "65536"),
    ])
    func badValuesNameTheVariable(variable: String, value: String) {
        do {
            _ = try Configuration(environment: [variable: value])
            Issue.record("\(variable)=\(value) was accepted")
        } catch {
            #expect(error.variable == variable)
            #expect(error.description.hasPrefix("pushrelay: invalid \(variable)="))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func secretsAreNotEchoedInErrors() {
        do {
            _ = try Configuration(environment: ["PUSHRELAY_API_KEY": "short:key"])
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("short:key"))
        }
    }

    @Test func aMetricsListenerOnlyWhenAskedFor() throws {
        #expect(try Configuration(environment: [:]).metricsPort == nil)
        #expect(try Configuration(environment: ["PUSHRELAY_METRICS_PORT": "9090"]).metricsPort == 9090)
        #expect(Configuration.unknownVariables(in: ["PUSHRELAY_METRICS_PORT": "9090"]).isEmpty)
        // The API's own port cannot be the metrics one, except in a worker-only process, which has no API listener.
        #expect(throws: ConfigurationError.self) { try Configuration(environment: ["PUSHRELAY_METRICS_PORT": "8080"]) }
        #expect(try Configuration(environment: ["PUSHRELAY_METRICS_PORT": "8080", "PUSHRELAY_ROLE": "worker"]).metricsPort == 8080)
    }

    @Test func unknownPushRelayVariablesAreReported() {
        let unknown = Configuration.unknownVariables(in: ["PUSHRELAY_PROT": "1", "PUSHRELAY_PORT": "1", "HOME": "/"])
        #expect(unknown == ["PUSHRELAY_PROT"])
    }
}
