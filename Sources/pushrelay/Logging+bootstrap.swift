import Logging

/// Sets up swift-log: human-readable lines by default, one JSON object a line with `LOG_FORMAT=json`.
enum LogSetup {
    static func bootstrap(json: Bool, level: String) -> Logger {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: json ? .json : .text)
            handler.logLevel = logLevel
            return handler
        }
        var logger = Logger(label: "pushrelay")
        logger.logLevel = logLevel
        return logger
    }
}
