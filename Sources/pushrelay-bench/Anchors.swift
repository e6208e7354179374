import Foundation
import Histogram
import RelayStore

/// The anchors the figures are judged against, measured on the same PostgreSQL in the same run.
enum Anchors {
    /// Anchor A: pgbench, 32 clients for `seconds`, each transaction one INSERT of a ~1 KB jsonb row with a unique text
    /// key, `synchronous_commit` on (the server default): PostgreSQL's own ceiling for "persist one webhook".
    /// Also PostgreSQL's CPU per transaction, in µs (`CPUSample`).
    static func pgbench(_ env: BenchEnvironment, seconds: Int) async throws -> (tps: Double, postgresCPUPerTransaction: Double) {
        let insert = try await InsertScript(env)
        defer { insert.remove() }
        await env.settle()
        let cpuBefore = CPUSample.take()
        let result = try insert.pgbench(["-c", "32", "-j", "2", "-T", String(seconds)])
        let cpu = CPUSample.take()
        guard result.status == 0,
            let line = result.output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
            let tps = Double(line.dropFirst(6).prefix { $0 != " " })
        else { throw BenchError("pgbench: \(result.output.suffix(600))") }
        let transactions = result.output.split(separator: "\n").first { $0.hasPrefix("number of transactions actually processed: ") }
            .flatMap { Int($0.split(separator: " ").last ?? "") } ?? Int(tps * Double(seconds))
        return (tps, cpu.perItem(since: cpuBefore, items: transactions).postgres)
    }

    /// Anchor C: the same insert from one pgbench client at 50 transactions a second (`count` of them), so
    /// that PostgreSQL is idle between them: the latency of one durable commit on an idle server, in ms
    /// (p50, p99). The idle enqueue → provider call path holds two (the insert of the request, the mark
    /// before the call), so this bounds how low the idle figure can go on this machine.
    static func idleCommit(_ env: BenchEnvironment, count: Int) async throws -> (p50: Double, p99: Double) {
        let insert = try await InsertScript(env)
        defer { insert.remove() }
        let prefix = insert.directory.appendingPathComponent("latency").path
        await env.settle()
        let result = try insert.pgbench(["-c", "1", "-R", "50", "-t", String(count), "-l", "--log-prefix", prefix])
        guard result.status == 0 else { throw BenchError("pgbench: \(result.output.suffix(600))") }
        // One line per transaction: client, transaction, latency in µs, script, epoch seconds, µs, schedule lag in µs.
        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        let logs = try FileManager.default.contentsOfDirectory(atPath: insert.directory.path).filter { $0.hasPrefix("latency") }
        for log in logs {
            let text = try String(contentsOf: insert.directory.appendingPathComponent(log), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let fields = line.split(separator: " ")
                // With a rate, pgbench counts from each transaction's scheduled start: its lag is taken off.
                guard fields.count > 2, let latency = UInt64(fields[2]) else { continue }
                let lag = fields.count > 6 ? UInt64(fields[6]) ?? 0 : 0
                histogram.record(latency - min(lag, latency))
            }
        }
        guard histogram.totalCount > 0 else { throw BenchError("pgbench wrote no latency log: \(result.output.suffix(600))") }
        return (Double(histogram.valueAtPercentile(50)) / 1000, Double(histogram.valueAtPercentile(99)) / 1000)
    }

    /// The anchors' transaction: one INSERT of a ~1 KB jsonb row with a unique text key, in a fresh
    /// database, as a pgbench script in a directory of its own.
    struct InsertScript {
        let database: DatabaseSettings
        let bin: URL
        let directory: URL
        let script: URL

        init(_ env: BenchEnvironment) async throws {
            database = try await env.freshDatabase()
            bin = try ManagedPostgres.locateBinaries()
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-pgbench-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let body = #"{"type":"publish.requested","data":{"path":"twitter/post","request":{"push":{"post":{"message":"\#(String(repeating: "x", count: 900))"}}}}}"#
            script = directory.appendingPathComponent("insert.sql")
            try Data("INSERT INTO anchor_events (key, body) VALUES (gen_random_uuid()::text, '\(body)'::jsonb);\n".utf8).write(to: script)
            let setup = try run(
                bin.appendingPathComponent("psql"),
                connection(database) + [
                    "-v", "ON_ERROR_STOP=1", "-qc", "SET synchronous_commit = on; CREATE TABLE anchor_events (key text PRIMARY KEY, body jsonb NOT NULL)",
                ],
                password: database.password)
            guard setup.status == 0 else { throw BenchError("psql: \(setup.output)") }
        }

        /// Runs pgbench with `options` on the script.
        func pgbench(_ options: [String]) throws -> (status: Int32, output: String) {
            // pgbench's -d means --debug: the database is its last argument.
            try run(
                bin.appendingPathComponent("pgbench"),
                ["-h", database.host, "-p", String(database.port), "-U", database.username, "-n"] + options + ["-f", script.path, database.database],
                password: database.password)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    /// Anchor B: PgQueuer (PyPI `pgqueuer`, installed by `bench/setup.sh` in `.build/bench-venv`) draining
    /// `jobs` no-op jobs on the same server. Nil when it is not installed.
    static func pgqueuer(_ env: BenchEnvironment, jobs: Int) async throws -> Double? {
        let python = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(".build/bench-venv/bin/python")
        let script = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("bench/pgqueuer_anchor.py")
        guard FileManager.default.isExecutableFile(atPath: python.path), FileManager.default.fileExists(atPath: script.path) else { return nil }
        let database = try await env.freshDatabase()
        await env.settle()
        let dsn = "postgresql://\(database.username):\(database.password ?? "")@\(database.host):\(database.port)/\(database.database)"
        let result = try run(python, [script.path, dsn, String(jobs), "10"], password: nil)
        guard result.status == 0, let line = result.output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let rate = json["jobs_per_second"] as? Double
        else { throw BenchError("pgqueuer: \(result.output.suffix(600))") }
        return rate
    }

    static func connection(_ database: DatabaseSettings) -> [String] {
        ["-h", database.host, "-p", String(database.port), "-U", database.username, "-d", database.database]
    }

    /// Runs a program to its end; stdout and stderr together (`ChildProcess`: signals as in a fresh process).
    static func run(_ program: URL, _ arguments: [String], password: String?) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        if let password { environment["PGPASSWORD"] = password }
        return try ChildProcess.run(program.path, arguments, environment: environment.map { "\($0.key)=\($0.value)" })
    }
}
