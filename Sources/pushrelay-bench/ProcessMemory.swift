import Foundation

/// Resident memory of a process, from `/proc/<pid>/status` (Linux).
enum ProcessMemory {
    /// (current resident set, peak resident set) in bytes.
    static func resident(pid: Int32) -> (current: Int, peak: Int)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        func kilobytes(_ key: String) -> Int? {
            text.split(separator: "\n").first { $0.hasPrefix(key) }
                .flatMap { $0.split(whereSeparator: \.isWhitespace).dropFirst().first }.flatMap { Int($0) }
        }
        guard let current = kilobytes("VmRSS:"), let peak = kilobytes("VmHWM:") else { return nil }
        return (current * 1024, peak * 1024)
    }
}
