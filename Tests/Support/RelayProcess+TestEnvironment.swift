import Foundation
import RelayStore
import ServeProcess

extension RelayProcess {
    /// The variables that point a process at `environment`'s sandbox, database and credentials.
    public static func variables(
        for environment: TestEnvironment, database: DatabaseSettings, encryptionKey: String
    ) -> [String: String] {
        variables(
            sandbox: environment.sandbox, database: database, encryptionKey: encryptionKey, apiKey: environment.apiKey,
            webhookSecret: environment.webhookSecret, callbackSecret: environment.callbackSecret)
    }
}
