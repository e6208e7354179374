import Foundation
import ProviderSandbox
import RelayCore
import RelayStore

extension RelayProcess {
    /// The environment of a `serve` process that uses `database`, talks to `sandbox` for every provider,
    /// and accepts this API key and webhook secret.
    public static func variables(
        sandbox: ProviderSandbox, database: DatabaseSettings, encryptionKey: String, apiKey: (publicKey: String, privateKey: String),
        webhookSecret: String, callbackSecret: String
    ) -> [String: String] {
        var configuration = Configuration()
        sandbox.configure(&configuration)
        var variables = [
            "DATABASE_URL": database.url,
            "PUSHRELAY_ENCRYPTION_KEY": encryptionKey,
            "PUSHRELAY_PORT": "0",
            "PUSHRELAY_API_KEY": "\(apiKey.publicKey):\(apiKey.privateKey)",
            "PUSHRELAY_CALLBACK_SECRET": callbackSecret,
            "PUSHRELAY_WEBHOOK_SECRET": webhookSecret,
            "PUSHRELAY_MEDIA_ALLOW_PRIVATE": "1",
            "LOG_LEVEL": "info",
        ]
        for provider in Provider.allCases {
            let settings = configuration.providers[provider]!
            let prefix = "PUSHRELAY_\(provider.environmentName)_"
            variables[prefix + "API_URL"] = settings.apiURL
            variables[prefix + "OAUTH_URL"] = settings.oauthURL
            variables[prefix + "CLIENT_ID"] = settings.clientID
            variables[prefix + "CLIENT_SECRET"] = settings.clientSecret
        }
        return variables
    }
}
