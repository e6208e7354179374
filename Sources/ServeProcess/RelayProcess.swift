import Foundation
import Synchronization

/// A `pushrelay serve` child process, started as an operator starts it: for the tests that kill things
/// (`kill -9`, SIGTERM, several processes on one database) and for `pushrelay-bench`, which measures
/// the relay in its own process (its memory apart from the load generator's).
///
/// It logs to a file kept in the temporary directory (its path is in `logFile` for failure messages).
public final class RelayProcess: Sendable {
    public let baseURL: String
    public let logFile: URL
    let process: Process
    let exit: ExitWaiter

    init(baseURL: String, logFile: URL, process: Process, exit: ExitWaiter) {
        self.baseURL = baseURL
        self.logFile = logFile
        self.process = process
        self.exit = exit
    }

    /// The built `pushrelay`, next to this executable (or test bundle) in the build directory.
    public static var executable: URL {
        var directory = Bundle.main.bundleURL
        while directory.path != "/" && !FileManager.default.isExecutableFile(atPath: directory.appendingPathComponent("pushrelay").path) {
            directory.deleteLastPathComponent()
        }
        return directory.appendingPathComponent("pushrelay")
    }

    /// Starts `pushrelay serve` with exactly these variables (nothing inherited but PATH and HOME) and
    /// returns once it prints the address it listens on.
    public static func start(_ variables: [String: String], name: String = "relay", executable: URL = RelayProcess.executable) async throws
        -> RelayProcess
    {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "TMPDIR"].contains($0.key) }
        environment.merge(variables) { $1 }
        process.environment = environment
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-\(name)-\(UUID().uuidString.prefix(8)).log")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: logFile)
        let output = Pipe()
        process.standardOutput = output

        let exit = ExitWaiter()
        process.terminationHandler = { exit.exited($0.terminationStatus) }
        let (lines, continuation) = AsyncStream<String>.makeStream()
        let buffer = Mutex<String>("")
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                continuation.finish()
                return
            }
            let complete: [String] = buffer.withLock { text in
                text += String(decoding: data, as: UTF8.self)
                var complete: [String] = []
                while let newline = text.firstIndex(of: "\n") {
                    complete.append(String(text[..<newline]))
                    text = String(text[text.index(after: newline)...])
                }
                return complete
            }
            for line in complete { continuation.yield(line) }
        }
        try process.run()
        for await line in lines {
            if let range = line.range(of: "PushRelay is listening on ") {
                return RelayProcess(baseURL: String(line[range.upperBound...]), logFile: logFile, process: process, exit: exit)
            }
        }
        let log = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        throw RelayProcessError(description: "pushrelay serve exited before listening:\n\(log.suffix(4000))")
    }

    public var pid: Int32 { process.processIdentifier }

    /// Sends a signal (SIGKILL for a crash, SIGTERM for a graceful stop).
    public func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// The exit status once the process has ended.
    public func waitForExit() async -> Int32 {
        await exit.wait()
    }

    /// Whether the process ended on a signal rather than by exiting.
    public var endedBySignal: Bool { process.terminationReason == .uncaughtSignal }

    /// The end of the process's log, for failure messages.
    public func logTail(_ characters: Int = 4000) -> String {
        String(((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").suffix(characters))
    }
}

/// Hands a process's exit status to whoever waits for it, before or after it happens.
final class ExitWaiter: Sendable {
    private let state = Mutex<(status: Int32?, waiting: [CheckedContinuation<Int32, Never>])>((nil, []))

    func exited(_ status: Int32) {
        let waiting = state.withLock { state in
            state.status = status
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume(returning: status) }
    }

    func wait() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status: Int32? = state.withLock { state in
                if let status = state.status { return status }
                state.waiting.append(continuation)
                return nil
            }
            if let status { continuation.resume(returning: status) }
        }
    }
}

/// `pushrelay serve` did not come up.
public struct RelayProcessError: Error, CustomStringConvertible {
    public let description: String
}
