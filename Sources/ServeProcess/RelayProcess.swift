import Foundation
import Synchronization

/// A `pushrelay serve` child process, started as an operator starts it: for the tests that kill things
/// (`kill -9`, SIGTERM, several processes on one database) and for `pushrelay-bench`, which measures
/// the relay in its own process (its memory apart from the load generator's).
///
/// Its log (stderr) goes to a file kept in the temporary directory (its path is in `logFile` for failure
/// messages), and past `waitForLog(containing:after:)`, for tests that must know what it is doing.
public final class RelayProcess: Sendable {
    public let baseURL: String
    public let logFile: URL
    let process: Process
    let exit: ExitWaiter
    let log: LogWatch
    let printed: PrintedLines

    init(baseURL: String, logFile: URL, process: Process, exit: ExitWaiter, log: LogWatch, printed: PrintedLines) {
        self.baseURL = baseURL
        self.logFile = logFile
        self.process = process
        self.exit = exit
        self.log = log
        self.printed = printed
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
    /// returns once it prints the address it listens on. With `watchingLog` false its log goes straight
    /// to the file, not through this process (the benchmark's load side stays its own), and
    /// `waitForLog(containing:after:)` answers false.
    public static func start(
        _ variables: [String: String], name: String = "relay", executable: URL = RelayProcess.executable, watchingLog: Bool = true
    ) async throws -> RelayProcess {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment.filter { ["PATH", "HOME", "TMPDIR"].contains($0.key) }
        environment.merge(variables) { $1 }
        process.environment = environment
        let logFile = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-\(name)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = LogWatch(file: try FileHandle(forWritingTo: logFile))
        if watchingLog {
            let errors = Pipe()
            process.standardError = errors
            errors.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil }
                log.received(data)
            }
        } else {
            process.standardError = log.file
            log.received(Data())
        }
        let output = Pipe()
        process.standardOutput = output

        let exit = ExitWaiter()
        process.terminationHandler = { exit.exited($0.terminationStatus) }
        let (lines, continuation) = AsyncStream<String>.makeStream()
        let buffer = Mutex<String>("")
        let printed = PrintedLines()
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
            printed.append(complete)
            for line in complete { continuation.yield(line) }
        }
        try process.run()
        for await line in lines {
            if let range = line.range(of: "PushRelay is listening on ") {
                return RelayProcess(
                    baseURL: String(line[range.upperBound...]), logFile: logFile, process: process, exit: exit, log: log, printed: printed)
            }
        }
        let written = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        throw RelayProcessError(description: "pushrelay serve exited before listening:\n\(written.suffix(4000))")
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

    /// Does `action` (sends a signal, say), then waits until the process logs a line containing `text`;
    /// false if its log ends first. Only lines logged after `action` begins count.
    public func waitForLog(containing text: String, after action: () -> Void) async -> Bool {
        await log.waitForLine(containing: text, after: action)
    }

    /// The lines the process has printed on stdout: its start-up banner, whole once `start` has returned (it
    /// is written at once).
    public var printedLines: [String] { printed.all }

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

/// What a process printed on stdout, line by line.
final class PrintedLines: Sendable {
    private let lines = Mutex<[String]>([])

    func append(_ more: [String]) { lines.withLock { $0 += more } }
    var all: [String] { lines.withLock { $0 } }
}

/// Copies a process's log to its file, line by line, and tells waiters when a line they wait for arrives.
final class LogWatch: Sendable {
    struct Waiter {
        let text: String
        let continuation: CheckedContinuation<Bool, Never>
    }
    struct State {
        var partial = ""
        var waiters: [Waiter] = []
        var ended = false
    }

    let file: FileHandle
    private let state = Mutex(State())

    init(file: FileHandle) {
        self.file = file
    }

    /// The next bytes of the log; empty at its end.
    func received(_ data: Data) {
        file.write(data)
        let (matched, unmatched): ([Waiter], [Waiter]) = state.withLock { state in
            if data.isEmpty {
                state.ended = true
                defer { state.waiters = [] }
                return ([], state.waiters)
            }
            state.partial += String(decoding: data, as: UTF8.self)
            guard let lastNewline = state.partial.lastIndex(of: "\n") else { return ([], []) }
            let lines = state.partial[..<lastNewline]
            state.partial = String(state.partial[state.partial.index(after: lastNewline)...])
            let matched = state.waiters.filter { lines.contains($0.text) }
            state.waiters.removeAll { lines.contains($0.text) }
            return (matched, [])
        }
        for waiter in matched { waiter.continuation.resume(returning: true) }
        for waiter in unmatched { waiter.continuation.resume(returning: false) }
    }

    func waitForLine(containing text: String, after action: () -> Void) async -> Bool {
        await withCheckedContinuation { continuation in
            let ended = state.withLock { state in
                if !state.ended { state.waiters.append(Waiter(text: text, continuation: continuation)) }
                return state.ended
            }
            if ended { continuation.resume(returning: false) } else { action() }
        }
    }
}

/// `pushrelay serve` did not come up.
public struct RelayProcessError: Error, CustomStringConvertible {
    public let description: String
}
