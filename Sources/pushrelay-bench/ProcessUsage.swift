import Foundation

/// What a process under measurement uses, read from `/proc/<pid>` (Linux): its resident memory and its CPU time.
enum ProcessUsage {
    /// (current resident set, peak resident set) in bytes, from `/proc/<pid>/status`.
    static func resident(pid: Int32) -> (current: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func kilobytes(_ key: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(key) }
                .flatMap { $0.split(whereSeparator: \.isWhitespace).dropFirst().first }.flatMap { Int($0) }
        }
        guard let current = kilobytes("VmRSS:"), let peak = kilobytes("VmHWM:") else { return nil }
        return (current * 1024, peak * 1024)
    }

    /// User plus system CPU time in seconds so far, from `/proc/<pid>/stat` (`utime` and `stime`).
    static func cpuSeconds(pid: Int32) -> Double? {
        stat(pid: pid)?.own
    }

    /// What `/proc/<pid>/stat` says of a process: its command name, its parent, its own CPU seconds (`utime`
    /// + `stime`) and those of its children it has reaped (`cutime` + `cstime`).
    static func stat(pid: Int32) -> (name: String, parent: Int32, own: Double, reaped: Double)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let nameStart = text.firstIndex(of: "("), let nameEnd = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the name, which may hold spaces: state, ppid (2nd), …, utime (12th), stime, cutime, cstime.
        let fields = text[text.index(after: nameEnd)...].split(separator: " ")
        guard fields.count > 14, let parent = Int32(fields[1]), let user = Double(fields[11]), let system = Double(fields[12]),
            let childUser = Double(fields[13]), let childSystem = Double(fields[14])
        else { return nil }
        let tick = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (String(text[text.index(after: nameStart)..<nameEnd]), parent, (user + system) / tick, (childUser + childSystem) / tick)
    }
}

/// The CPU time of the machine's shares during a step: the relay under measurement, PostgreSQL (every
/// process named `postgres`, and the backends that ended meanwhile, through their postmaster's count of
/// its reaped children) and this process (the load generator, the sandbox, the subscriber). The difference
/// of two samples, per request or event, says where a figure's CPU went; pgbench's share is PostgreSQL's.
struct CPUSample {
    var relay: Double?
    /// CPU seconds of each PostgreSQL server on the machine, by its postmaster's pid.
    var postgres: [Int32: Double]
    var bench: Double

    static func take(relay: Int32? = nil) -> CPUSample {
        CPUSample(
            relay: relay.flatMap { ProcessUsage.cpuSeconds(pid: $0) }, postgres: ProcessUsage.postgresSeconds(),
            bench: ProcessUsage.cpuSeconds(pid: getpid()) ?? 0)
    }

    /// Microseconds of each share per item (request, transaction, event) between `earlier` and this sample.
    /// PostgreSQL's counts the servers that ran through both samples: a server that stopped meanwhile (a
    /// previous run's cluster shutting down) took its whole count with it, and one that started was not
    /// the server measured.
    func perItem(since earlier: CPUSample, items: Int) -> (relay: Double?, postgres: Double, bench: Double) {
        let count = Double(max(items, 1))
        let relay = self.relay.map { ($0 - (earlier.relay ?? 0)) / count * 1_000_000 }
        let postgres = self.postgres.reduce(0) { total, server in total + (earlier.postgres[server.key].map { server.value - $0 } ?? 0) }
        return (relay, postgres / count * 1_000_000, (bench - earlier.bench) / count * 1_000_000)
    }
}

extension ProcessUsage {
    /// User plus system CPU seconds of every process named `postgres` on this machine, plus what their
    /// postmasters counted for children already reaped (backends of connections that closed), by server (its
    /// postmaster's pid). Empty when the server runs elsewhere (`DATABASE_URL` on another host).
    static func postgresSeconds() -> [Int32: Double] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [:] }
        let processes = entries.compactMap { entry -> (pid: Int32, parent: Int32, own: Double, reaped: Double)? in
            guard let pid = Int32(entry), let stat = stat(pid: pid), stat.name == "postgres" else { return nil }
            return (pid, stat.parent, stat.own, stat.reaped)
        }
        let pids = Set(processes.map(\.pid))
        // A postmaster is a postgres process whose parent is not one; its children (backends, background
        // processes) are the server's, and its reaped children's time is in its own count of them.
        var servers: [Int32: Double] = [:]
        for process in processes {
            if pids.contains(process.parent) {
                servers[process.parent, default: 0] += process.own
            } else {
                servers[process.pid, default: 0] += process.own + process.reaped
            }
        }
        return servers
    }
}
