import Foundation
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster that PushRelay creates, starts and stops itself.
///
/// With `DATABASE_URL` unset, `serve` keeps one under `.pushrelay/postgres` so a new user needs no
/// database set-up; the tests use the same code for their throwaway server. It runs the PostgreSQL
/// binaries found on the machine; as root (PostgreSQL refuses to run as root) it runs them as the
/// unprivileged `postgres` user, or `nobody`.
public struct ManagedPostgres: Sendable {
    /// The cluster directory (`PGDATA` is `<directory>/data`).
    public let directory: URL
    public let logger: Logger
    /// PostgreSQL configuration parameters given at start (`-c name=value`), beyond the port and the listen
    /// address; a server already running is reused with its own.
    public let parameters: [String: String]

    static let username = "pushrelay"

    public init(directory: URL, logger: Logger, parameters: [String: String] = [:]) {
        self.directory = directory.standardizedFileURL
        self.logger = logger
        self.parameters = parameters
    }

    var dataDirectory: URL { directory.appendingPathComponent("data") }
    var stateFile: URL { directory.appendingPathComponent("cluster.json") }

    /// What we remember between starts: the port and the generated password.
    struct State: Codable {
        var port: Int
        var password: String
    }

    /// Creates the cluster if needed and starts it unless it is already running.
    /// Returns the settings to connect with and whether this call started the server (and so should stop it).
    /// Several processes (or tests) may start the same cluster at once: a lock file makes them take turns,
    /// so `initdb` runs once and the later ones find the server running.
    public func start(database: String = "pushrelay") async throws -> (settings: DatabaseSettings, startedHere: Bool) {
        // initdb and pg_ctl are waited for synchronously: off the cooperative thread pool, which they would block.
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try self.startLocking(database: database) })
            }
        }
    }

    func startLocking(database: String) throws -> (settings: DatabaseSettings, startedHere: Bool) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lockPath = directory.appendingPathComponent("start.lock").path
        let lock = open(lockPath, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard lock >= 0 else { throw DatabaseError("could not open \(lockPath): errno \(errno)") }
        defer { close(lock) }  // closing the descriptor releases the lock
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        return try startLocked(database: database)
    }

    func startLocked(database: String) throws -> (settings: DatabaseSettings, startedHere: Bool) {
        let binaries = try Self.locateBinaries()
        let runAs = try Self.unprivilegedUser()
        var state: State
        if FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path),
            let saved = try? JSONDecoder().decode(State.self, from: Data(contentsOf: stateFile))
        {
            state = saved
        } else {
            state = State(port: try Self.freePort(), password: Self.randomToken(bytes: 24))
            try initialize(binaries: binaries, password: state.password, runAs: runAs)
            try JSONEncoder().encode(state).write(to: stateFile)
            chmod(stateFile.path, 0o600)
        }

        var startedHere = false
        if let runningPort = runningPort() {
            state.port = runningPort
            logger.info("reusing the managed PostgreSQL already running", metadata: ["port": "\(runningPort)"])
        } else {
            if !Self.portIsFree(state.port) {
                state.port = try Self.freePort()
                try JSONEncoder().encode(state).write(to: stateFile)
            }
            let options = "-p \(state.port) -c listen_addresses=127.0.0.1 -k '\(dataDirectory.path)'"
                + parameters.sorted { $0.key < $1.key }.map { " -c \($0.key)=\($0.value)" }.joined()
            try run(
                binaries.appendingPathComponent("pg_ctl"),
                ["-D", dataDirectory.path, "-l", directory.appendingPathComponent("postgres.log").path, "-w", "-t", "60",
                 "-o", options, "start"],
                as: runAs, what: "start PostgreSQL (see \(directory.path)/postgres.log)")
            startedHere = true
            logger.info("started the managed PostgreSQL", metadata: ["port": "\(state.port)", "directory": "\(directory.path)"])
        }

        let settings = DatabaseSettings(
            host: "127.0.0.1", port: state.port, username: Self.username, password: state.password,
            database: database)
        return (settings, startedHere)
    }

    /// Stops the server (fast shutdown: running transactions are rolled back, nothing committed is lost).
    public func stop() {
        guard let binaries = try? Self.locateBinaries(), let runAs = try? Self.unprivilegedUser() else { return }
        do {
            try run(
                binaries.appendingPathComponent("pg_ctl"), ["-D", dataDirectory.path, "-m", "fast", "-w", "stop"],
                as: runAs, what: "stop PostgreSQL")
            logger.info("stopped the managed PostgreSQL")
        } catch {
            logger.warning("could not stop the managed PostgreSQL", metadata: ["error": "\(error)"])
        }
    }

    /// The port of a server already running on this data directory, from `postmaster.pid`.
    func runningPort() -> Int? {
        guard let pidFile = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8)
        else { return nil }
        let lines = pidFile.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > 3, let pid = pid_t(lines[0]), let port = Int(lines[3]) else { return nil }
        guard kill(pid, 0) == 0 else { return nil }
        return port
    }

    func initialize(binaries: URL, password: String, runAs: (uid: uid_t, gid: gid_t, name: String)?) throws {
        try? FileManager.default.removeItem(at: dataDirectory)
        let passwordFile = directory.appendingPathComponent("initdb.pw")
        try Data(password.utf8).write(to: passwordFile)
        defer { try? FileManager.default.removeItem(at: passwordFile) }
        chmod(passwordFile.path, 0o600)
        if let runAs {
            chmod(directory.path, 0o700)
            chown(directory.path, runAs.uid, runAs.gid)
            chown(passwordFile.path, runAs.uid, runAs.gid)
        }
        try run(
            binaries.appendingPathComponent("initdb"),
            ["-D", dataDirectory.path, "-U", Self.username, "--pwfile", passwordFile.path, "--auth", "scram-sha-256",
             "-E", "UTF8", "--locale", "C"],
            as: runAs, what: "create the PostgreSQL cluster (initdb)")
        logger.info("created a managed PostgreSQL cluster", metadata: ["directory": "\(dataDirectory.path)"])
    }

    /// Runs a PostgreSQL program, as the unprivileged user when we are root, and waits for it.
    ///
    /// Spawned with `posix_spawn`, not Foundation's `Process`: `pg_ctl start` leaves the server running,
    /// and `Process` waits for a descriptor the server inherits, so it would wait for the server to stop.
    /// Output goes to a file that is read back for the error message.
    func run(_ program: URL, _ arguments: [String], as user: (uid: uid_t, gid: gid_t, name: String)?, what: String) throws {
        // From `/`: the unprivileged user may not be allowed into our working directory.
        let command = ["/bin/sh", "-c", "cd / && unset OLDPWD && exec \"$@\"", "sh"]
            + (user.map { ["/usr/sbin/runuser", "-u", $0.name, "--", program.path] } ?? [program.path])
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-pg-\(UUID().uuidString).out").path
        defer { unlink(outputPath) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        SpawnedDescriptors.standardStreams(&actions, outputTo: outputPath)
        // Nothing else of ours: the server lives on and would keep any pipe or socket open (`SpawnedDescriptors`).
        SpawnedDescriptors.closeInherited(&actions)

        let argv: [UnsafeMutablePointer<CChar>?] = (command + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = Self.serverEnvironment(ProcessInfo.processInfo.environment).map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, command[0], &actions, nil, argv, envp)
        guard spawned == 0 else {
            throw DatabaseError("could not \(what): cannot run \(command[0]) (errno \(spawned))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitedCleanly = status & 0x7F == 0 && (status >> 8) & 0xFF == 0
        guard exitedCleanly else {
            let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
            throw DatabaseError("could not \(what): \(text.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }

    /// The variables the PostgreSQL programs get of ours (`NAME=value`): the path and the locale only. The
    /// server lives on with its environment, readable as its user and by its superuser's `COPY … FROM PROGRAM`,
    /// and ours holds secrets (`PUSHRELAY_ENCRYPTION_KEY`, provider client secrets); a `PGPORT` or `PGOPTIONS`
    /// set for the user's own tools is not the managed cluster's either.
    static func serverEnvironment(_ ours: [String: String]) -> [String] {
        ours.filter { name, _ in ["PATH", "LANG", "LANGUAGE", "TZ"].contains(name) || name.hasPrefix("LC_") }
            .map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// The directory holding `initdb` and `pg_ctl`: `pg_config --bindir`, else the usual Debian place, else PATH.
    public static func locateBinaries() throws -> URL {
        var candidates: [String] = []
        if let bindir = try? capture("pg_config", ["--bindir"]) { candidates.append(bindir) }
        if let versions = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql") {
            for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
                candidates.append("/usr/lib/postgresql/\(version)/bin")
            }
        }
        for path in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
            candidates.append(String(path))
        }
        for candidate in candidates
        where FileManager.default.isExecutableFile(atPath: candidate + "/initdb")
            && FileManager.default.isExecutableFile(atPath: candidate + "/pg_ctl")
        {
            return URL(fileURLWithPath: candidate)
        }
        throw DatabaseError(
            "no PostgreSQL server found (initdb, pg_ctl): install it (Debian/Ubuntu: apt-get install postgresql) or set DATABASE_URL"
        )
    }

    static func capture(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw DatabaseError("\(program) failed") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Nil when not root; else the user PostgreSQL runs as.
    static func unprivilegedUser() throws -> (uid: uid_t, gid: gid_t, name: String)? {
        guard geteuid() == 0 else { return nil }
        for name in ["postgres", "nobody"] {
            if let entry = getpwnam(name) {
                return (entry.pointee.pw_uid, entry.pointee.pw_gid, name)
            }
        }
        throw DatabaseError("running as root, but no unprivileged user (postgres or nobody) exists to run PostgreSQL")
    }

    static func randomToken(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
        return data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func portIsFree(_ port: Int) -> Bool { (try? bind(port: port)) != nil }

    /// A port the kernel says is free right now.
    static func freePort() throws -> Int { try bind(port: 0) }

    private static func bind(port: Int) throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw DatabaseError("socket() failed") }
        defer { close(fd) }
        // As PostgreSQL binds: connections of a server just stopped (TIME_WAIT) do not make its port look taken.
        var reuse: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw DatabaseError("port \(port) is taken") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
