import Foundation
import Logging
import RelayStore
import Testing
import TestSupport

/// The managed cluster as a process of ours starts it: the server it leaves running holds nothing of ours.
@Suite struct ManagedPostgresTests {
    /// A cluster of the test's own, in a new directory (created by `start`).
    static func newCluster() -> (ManagedPostgres, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pushrelay-managed-\(UUID().uuidString.prefix(8))")
        return (ManagedPostgres(directory: directory, logger: TestEnvironment.makeLogger()), directory)
    }

    /// Stops the cluster and removes its directory.
    static func remove(_ postgres: ManagedPostgres, _ directory: URL) {
        postgres.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A pipe open while the server starts is closed once we close our end: the server did not inherit it.
    /// It did (`posix_spawn` hands over every descriptor without close-on-exec, and Foundation's `Pipe` has
    /// none), and a test reading a command's output to its end waited for as long as the cluster ran.
    @Test func theServerKeepsNoneOfOurDescriptors() async throws {
        let (postgres, directory) = Self.newCluster()
        defer { Self.remove(postgres, directory) }
        let pipe = Pipe()
        let started = try await postgres.start(database: "postgres")
        #expect(started.startedHere)
        try pipe.fileHandleForWriting.close()

        // Our write end was the last one: reading finds the end at once instead of waiting for a writer.
        let reader = pipe.fileHandleForReading.fileDescriptor
        _ = fcntl(reader, F_SETFL, fcntl(reader, F_GETFL) | O_NONBLOCK)
        var byte: UInt8 = 0
        let count = read(reader, &byte, 1)
        #expect(count == 0, "the pipe is still open elsewhere (read: \(count), errno \(errno))")
    }

    /// The server's environment holds none of our variables but the path and the locale: ours holds secrets
    /// (the encryption key, provider client secrets), and the server's is readable as its user and by its
    /// superuser's `COPY … FROM PROGRAM`. It had all of them.
    @Test func theServerHasNoneOfOurVariables() async throws {
        let (postgres, directory) = Self.newCluster()
        defer { Self.remove(postgres, directory) }
        _ = try await postgres.start(database: "postgres")
        let pidFile = try String(contentsOf: directory.appendingPathComponent("data/postmaster.pid"), encoding: .utf8)
        let pid = try #require(pidFile.split(separator: "\n").first.map(String.init))
        let environment = try Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))
        let variables = Set(environment.split(separator: 0).map { String(decoding: $0, as: UTF8.self) })
        let kept: Set<String> = ["PATH", "LANG", "LANGUAGE", "TZ"]
        let ours = ProcessInfo.processInfo.environment.filter { !kept.contains($0.key) && !$0.key.hasPrefix("LC_") }
        #expect(!ours.isEmpty)
        for (name, value) in ours {
            #expect(!variables.contains("\(name)=\(value)"), "the server has our \(name)")
        }
    }
}
