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

    /// The server holds none of our pipes and sockets: a pipe of ours open while it starts (as a CI runner's is,
    /// whose end the runner waits for) is not among its descriptors. It was (`posix_spawn` hands over every
    /// descriptor without close-on-exec, and Foundation's `Pipe` has none), and a test reading a command's
    /// output to its end waited for as long as the cluster ran. The server's descriptors are compared with
    /// ours directly: a check through the pipe's end would also see the children that other tests of this
    /// process start meanwhile.
    @Test func theServerKeepsNoneOfOurDescriptors() async throws {
        let (postgres, directory) = Self.newCluster()
        defer { Self.remove(postgres, directory) }
        let pipe = Pipe()
        let started = try await postgres.start(database: "postgres")
        #expect(started.startedHere)
        let ours = Self.pipesAndSockets(of: "self")
        let pipeEnd = try #require(Self.target(of: "self", descriptor: pipe.fileHandleForWriting.fileDescriptor))
        #expect(ours.contains(pipeEnd))

        let server = try Self.postmasterID(directory)
        let theirs = Self.pipesAndSockets(of: server)
        #expect(!theirs.isEmpty, "the server's descriptors could not be read")
        #expect(ours.intersection(theirs).isEmpty, "the server holds these of ours: \(ours.intersection(theirs).sorted())")
    }

    /// What `/proc/<process>/fd/<descriptor>` names, e.g. `pipe:[1234]`.
    static func target(of process: String, descriptor: Int32) -> String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(process)/fd/\(descriptor)")
    }

    /// The pipes and sockets a process holds, by kernel object (`pipe:[…]`, `socket:[…]`).
    static func pipesAndSockets(of process: String) -> Set<String> {
        let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process)/fd")) ?? []
        return Set(descriptors.compactMap { Int32($0).flatMap { target(of: process, descriptor: $0) } }
            .filter { $0.hasPrefix("pipe:") || $0.hasPrefix("socket:") })
    }

    /// The process ID of the cluster's postmaster, from its `postmaster.pid`.
    static func postmasterID(_ directory: URL) throws -> String {
        let pidFile = try String(contentsOf: directory.appendingPathComponent("data/postmaster.pid"), encoding: .utf8)
        return try #require(pidFile.split(separator: "\n").first.map(String.init))
    }

    /// The server's environment holds none of our variables but the path and the locale: ours holds secrets
    /// (the encryption key, provider client secrets), and the server's is readable as its user and by its
    /// superuser's `COPY … FROM PROGRAM`. It had all of them.
    @Test func theServerHasNoneOfOurVariables() async throws {
        let (postgres, directory) = Self.newCluster()
        defer { Self.remove(postgres, directory) }
        _ = try await postgres.start(database: "postgres")
        let pid = try Self.postmasterID(directory)
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
