import Foundation

/// Everything `pushrelay serve` can be told, read from the environment (DESIGN §6).
///
/// Parsing is strict and happens once at start-up: a value that does not parse stops the
/// service with one line naming the variable, instead of surfacing later as odd behaviour.
public struct Configuration: Sendable {
    /// Which parts of the service this process runs (`serve --role`).
    public enum Role: String, Sendable, CaseIterable {
        case api, worker, all
        public var runsAPI: Bool { self != .worker }
        public var runsWorkers: Bool { self != .api }
    }

    /// Where one provider's adapter sends its calls, and how it refreshes tokens.
    public struct ProviderEndpoint: Sendable, Hashable {
        public var apiURL: String
        public var oauthURL: String
        public var clientID: String?
        public var clientSecret: String?
    }

    public var databaseURL: String?
    public var host = "127.0.0.1"
    public var port = 8080
    public var role = Role.all
    /// A second listener serving only `/healthz`, `/readyz` and `/metrics` (`PUSHRELAY_METRICS_PORT`, on
    /// `host`): the only listener of a worker-only process, and a port apart from the API's for scrapers.
    /// Nil: none (0: any free port).
    public var metricsPort: Int?
    /// A client connection of a listener is closed after this long without a request in progress: idle
    /// keep-alive connections, and request heads or bodies that stop arriving (a client that opens connections
    /// and sends nothing would otherwise hold one file descriptor each for ever). A request being answered,
    /// long polls included, is never cut.
    public var idleTimeout: Duration = .seconds(75)
    /// A request's body must have arrived this long after its head, or the request is answered `408` and its
    /// connection closed: the idle timeout restarts with every byte, and a body trickled one byte a minute held
    /// the connection and its task for as long as its client liked. The head itself is bounded by the idle timeout.
    public var requestTimeout: Duration = .seconds(60)
    /// A callback delivery, the subscriber's whole answer included, is given up after this long (and retried
    /// on the schedule unless it was answered 2xx): a subscriber that trickles its answer must not hold a
    /// delivery slot for hours. Well under the callback lease (60 s).
    public var callbackTimeout: Duration = .seconds(15)
    /// `public:private` of an API key created (or kept) at start.
    public var apiKey: (publicKey: String, privateKey: String)?
    public var callbackSecret: String?
    public var webhookSecrets: [String] = []
    /// Base64 of 32 bytes; generated in managed mode when unset.
    public var encryptionKey: String?
    public var sandbox = false
    public var providers: [Provider: ProviderEndpoint]
    public var facebookGraphVersion = "v26.0"
    public var linkedinVersion = "202610"
    public var mediaAllowPrivate = false
    public var syncTimeout: Duration = .seconds(10)
    public var publishMaxAttempts = 5
    public var callbackRetrySchedule: [Int] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000]
    public var workers = 16
    /// How long a claimed job stays leased to its worker before the rescuer may take it back.
    public var leaseDuration: Duration = .seconds(300)
    /// Workers poll this often even without a notification (a missed NOTIFY costs at most this).
    public var pollInterval: Duration = .seconds(1)
    /// The lease rescuer looks for expired leases this often: a dead worker's job is back within lease + this.
    /// A third of the lease when that is shorter, so a short lease also means a quick rescue.
    public var rescueInterval: Duration = .seconds(15)
    public var logFormatJSON = false
    public var logLevel = "info"
    /// Where managed mode keeps its PostgreSQL cluster and generated keys.
    public var dataDirectory = ".pushrelay"

    public static let defaultAPIURLs: [Provider: String] = [
        .facebook: "https://graph.facebook.com",
        .linkedin: "https://api.linkedin.com",
        .pinterest: "https://api.pinterest.com",
        .twitter: "https://api.x.com",
        .youtube: "https://www.googleapis.com",
    ]

    public static let defaultOAuthURLs: [Provider: String] = [
        .facebook: "https://graph.facebook.com/v26.0/oauth/access_token",
        .linkedin: "https://www.linkedin.com/oauth/v2/accessToken",
        .pinterest: "https://api.pinterest.com/v5/oauth/token",
        .twitter: "https://api.x.com/2/oauth2/token",
        .youtube: "https://oauth2.googleapis.com/token",
    ]

    public init() {
        var providers: [Provider: ProviderEndpoint] = [:]
        for provider in Provider.allCases {
            providers[provider] = ProviderEndpoint(
                apiURL: Self.defaultAPIURLs[provider]!, oauthURL: Self.defaultOAuthURLs[provider]!)
        }
        self.providers = providers
    }

    /// Reads the environment. Throws `ConfigurationError` naming the first variable whose value does not parse.
    public init(environment: [String: String]) throws(ConfigurationError) {
        self.init()
        let env = environment.filter { !$0.value.isEmpty }
        databaseURL = env["DATABASE_URL"]
        if let value = env["DATABASE_URL"] {
            guard let url = URLComponents(string: value), ["postgres", "postgresql"].contains(url.scheme ?? ""),
                url.host != nil
            else {
                throw ConfigurationError("DATABASE_URL", value, "expected postgres://user:password@host:port/database")
            }
        }
        if let value = env["PUSHRELAY_HOST"] { host = value }
        if let value = env["PUSHRELAY_PORT"] { port = try Self.integer("PUSHRELAY_PORT", value, in: 0...65535) }
        if let value = env["PUSHRELAY_METRICS_PORT"] {
            metricsPort = try Self.integer("PUSHRELAY_METRICS_PORT", value, in: 0...65535)
        }
        if let value = env["PUSHRELAY_ROLE"] {
            guard let parsed = Role(rawValue: value) else {
                throw ConfigurationError("PUSHRELAY_ROLE", value, "expected api, worker or all")
            }
            role = parsed
        }
        if let value = env["PUSHRELAY_API_KEY"] {
            let parts = value.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts.allSatisfy({ $0.count >= 8 && !$0.contains(where: \.isWhitespace) }) else {
                throw ConfigurationError(
                    "PUSHRELAY_API_KEY", "<hidden>", "expected public_key:private_key, each at least 8 characters")
            }
            apiKey = (parts[0], parts[1])
        }
        if let value = env["PUSHRELAY_CALLBACK_SECRET"] {
            try Self.checkWebhookSecret("PUSHRELAY_CALLBACK_SECRET", value)
            callbackSecret = value
        }
        if let value = env["PUSHRELAY_WEBHOOK_SECRET"] {
            let secrets = value.split(whereSeparator: \.isWhitespace).map(String.init)
            for secret in secrets { try Self.checkWebhookSecret("PUSHRELAY_WEBHOOK_SECRET", secret) }
            webhookSecrets = secrets
        }
        if let value = env["PUSHRELAY_ENCRYPTION_KEY"] {
            guard let key = Data(base64Encoded: value), key.count == 32 else {
                throw ConfigurationError("PUSHRELAY_ENCRYPTION_KEY", "<hidden>", "expected the base64 of exactly 32 bytes")
            }
            encryptionKey = value
        }
        if let value = env["PUSHRELAY_SANDBOX"] { sandbox = try Self.flag("PUSHRELAY_SANDBOX", value) }
        mediaAllowPrivate = sandbox
        if let value = env["PUSHRELAY_MEDIA_ALLOW_PRIVATE"] {
            mediaAllowPrivate = try Self.flag("PUSHRELAY_MEDIA_ALLOW_PRIVATE", value)
        }
        for provider in Provider.allCases {
            let prefix = "PUSHRELAY_\(provider.environmentName)_"
            if let value = env[prefix + "API_URL"] {
                providers[provider]!.apiURL = try Self.url(prefix + "API_URL", value)
            }
            if let value = env[prefix + "OAUTH_URL"] {
                providers[provider]!.oauthURL = try Self.url(prefix + "OAUTH_URL", value)
            }
            providers[provider]!.clientID = env[prefix + "CLIENT_ID"]
            providers[provider]!.clientSecret = env[prefix + "CLIENT_SECRET"]
        }
        if let value = env["PUSHRELAY_FACEBOOK_GRAPH_VERSION"] {
            guard value.wholeMatch(of: /v\d+\.\d+/) != nil else {
                throw ConfigurationError("PUSHRELAY_FACEBOOK_GRAPH_VERSION", value, "expected a Graph API version such as v26.0")
            }
            facebookGraphVersion = value
        }
        if let value = env["PUSHRELAY_LINKEDIN_VERSION"] {
            guard value.wholeMatch(of: /\d{6}/) != nil else {
                throw ConfigurationError("PUSHRELAY_LINKEDIN_VERSION", value, "expected YYYYMM, such as 202610")
            }
            linkedinVersion = value
        }
        if let value = env["PUSHRELAY_SYNC_TIMEOUT"] {
            syncTimeout = .milliseconds(Int(try Self.seconds("PUSHRELAY_SYNC_TIMEOUT", value, max: 300) * 1000))
        }
        if let value = env["PUSHRELAY_PUBLISH_MAX_ATTEMPTS"] {
            publishMaxAttempts = try Self.integer("PUSHRELAY_PUBLISH_MAX_ATTEMPTS", value, in: 1...100)
        }
        if let value = env["PUSHRELAY_CALLBACK_RETRY_SCHEDULE"] {
            let items = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = items.compactMap { Int($0) }
            guard !items.isEmpty, numbers.count == items.count, numbers.allSatisfy({ $0 >= 0 }) else {
                throw ConfigurationError(
                    "PUSHRELAY_CALLBACK_RETRY_SCHEDULE", value, "expected comma-separated seconds, such as 0,5,300")
            }
            callbackRetrySchedule = numbers
        }
        if let value = env["PUSHRELAY_WORKERS"] { workers = try Self.integer("PUSHRELAY_WORKERS", value, in: 1...1024) }
        if let value = env["PUSHRELAY_LEASE_SECONDS"] {
            leaseDuration = .seconds(try Self.integer("PUSHRELAY_LEASE_SECONDS", value, in: 5...86400))
            rescueInterval = min(rescueInterval, leaseDuration / 3)
        }
        if let value = env["LOG_FORMAT"] {
            guard ["json", "text"].contains(value) else { throw ConfigurationError("LOG_FORMAT", value, "expected json or text") }
            logFormatJSON = value == "json"
        }
        if let value = env["LOG_LEVEL"] {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(value) else {
                throw ConfigurationError("LOG_LEVEL", value, "expected one of \(levels.joined(separator: ", "))")
            }
            logLevel = value
        }
        if let value = env["PUSHRELAY_DATA_DIR"] { dataDirectory = value }
        if let metricsPort, metricsPort != 0, metricsPort == port, role.runsAPI {
            throw ConfigurationError("PUSHRELAY_METRICS_PORT", String(metricsPort), "must differ from PUSHRELAY_PORT (the API's listener)")
        }
    }

    /// `PUSHRELAY_*` names in the environment that this version does not know: most likely typos.
    public static func unknownVariables(in environment: [String: String]) -> [String] {
        var known: Set<String> = [
            "PUSHRELAY_HOST", "PUSHRELAY_PORT", "PUSHRELAY_ROLE", "PUSHRELAY_API_KEY", "PUSHRELAY_CALLBACK_SECRET",
            "PUSHRELAY_WEBHOOK_SECRET", "PUSHRELAY_ENCRYPTION_KEY", "PUSHRELAY_SANDBOX", "PUSHRELAY_MEDIA_ALLOW_PRIVATE",
            "PUSHRELAY_FACEBOOK_GRAPH_VERSION", "PUSHRELAY_LINKEDIN_VERSION", "PUSHRELAY_SYNC_TIMEOUT",
            "PUSHRELAY_PUBLISH_MAX_ATTEMPTS", "PUSHRELAY_CALLBACK_RETRY_SCHEDULE", "PUSHRELAY_WORKERS",
            "PUSHRELAY_LEASE_SECONDS", "PUSHRELAY_DATA_DIR", "PUSHRELAY_METRICS_PORT",
        ]
        for provider in Provider.allCases {
            for suffix in ["API_URL", "OAUTH_URL", "CLIENT_ID", "CLIENT_SECRET"] {
                known.insert("PUSHRELAY_\(provider.environmentName)_\(suffix)")
            }
        }
        return environment.keys.filter { $0.hasPrefix("PUSHRELAY_") && !known.contains($0) }.sorted()
    }

    static func integer(_ name: String, _ value: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let number = Int(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw ConfigurationError(name, value, "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// Seconds, possibly fractional (`0.5`).
    static func seconds(_ name: String, _ value: String, max: Double) throws(ConfigurationError) -> Double {
        guard let number = Double(value.trimmingCharacters(in: .whitespaces)), number > 0, number <= max else {
            throw ConfigurationError(name, value, "expected a number of seconds greater than 0 and at most \(Int(max))")
        }
        return number
    }

    static func flag(_ name: String, _ value: String) throws(ConfigurationError) -> Bool {
        switch value.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(name, value, "expected 1 or 0")
        }
    }

    static func url(_ name: String, _ value: String) throws(ConfigurationError) -> String {
        guard let url = URLComponents(string: value), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError(name, value, "expected an absolute http or https URL")
        }
        return value.hasSuffix("/") ? String(value.dropLast()) : value
    }

    static func checkWebhookSecret(_ name: String, _ value: String) throws(ConfigurationError) {
        guard value.hasPrefix("whsec_"), let key = Data(base64Encoded: String(value.dropFirst(6))), key.count >= 16
        else {
            throw ConfigurationError(name, "<hidden>", "expected whsec_ followed by the base64 of at least 16 bytes")
        }
    }
}

/// A configuration value that does not parse; its description is the one line `serve` prints before exiting.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    public let variable: String
    public let value: String
    public let expectation: String

    public init(_ variable: String, _ value: String, _ expectation: String) {
        self.variable = variable
        self.value = value
        self.expectation = expectation
    }

    public var description: String { "pushrelay: invalid \(variable)=\"\(value)\": \(expectation)" }
}
