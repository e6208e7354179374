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
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let nameEnd = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name, which may hold spaces: state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: nameEnd)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
