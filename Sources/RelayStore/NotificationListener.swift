import Logging
import NIOCore
import PostgresNIO

/// Listens on the PushRelay `NOTIFY` channel over a dedicated connection, reconnecting when it drops.
///
/// Payloads are `job` (work was queued) and `done:<event id>` (a job finished). After every
/// (re)connection `onConnected` runs, because notifications sent while we were away are lost
/// and whoever waits must look at the database again.
public struct NotificationListener: Sendable {
    public let settings: DatabaseSettings
    public let logger: Logger

    public init(settings: DatabaseSettings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Runs until cancelled.
    public func run(onConnected: @escaping @Sendable () -> Void, onNotification: @escaping @Sendable (String) -> Void) async {
        var delay: Duration = .milliseconds(100)
        var connectionID = 0
        while !Task.isCancelled {
            do {
                connectionID += 1
                let connection = try await PostgresConnection.connect(
                    configuration: settings.connectionConfiguration(), id: connectionID, logger: logger)
                delay = .milliseconds(100)
                do {
                    try await connection.listen(on: Store.notificationChannel) { notifications in
                        onConnected()
                        for try await notification in notifications {
                            onNotification(notification.payload)
                        }
                    }
                } catch {
                    if !Task.isCancelled {
                        logger.warning("lost the LISTEN connection; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
                    }
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled { return }
                logger.warning("cannot open the LISTEN connection; retrying", metadata: ["error": "\(String(reflecting: error))", "in": "\(delay)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
    }
}
