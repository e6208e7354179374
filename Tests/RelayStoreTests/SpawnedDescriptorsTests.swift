import Foundation
import Testing

@testable import RelayStore

#if canImport(Glibc)
import Glibc
#endif

/// A program spawned with `SpawnedDescriptors`' close actions holds only 0, 1 and 2, whichever way they are made:
/// glibc's close-from action, or one close action per open descriptor (glibc before 2.34, not these machines').
@Suite struct SpawnedDescriptorsTests {
    @Test(arguments: ["close from 3", "close each open"])
    func aSpawnedProgramHoldsOnlyItsStandardDescriptors(way: String) throws {
        let pipe = Pipe()  // open here, without close-on-exec, as Foundation makes them
        defer { try? pipe.fileHandleForWriting.close() }
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("spawned-fds-\(UUID().uuidString)").path
        defer { unlink(output) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        SpawnedDescriptors.standardStreams(&actions, outputTo: output)
        if way == "close each open" {
            SpawnedDescriptors.closeEachOpen(&actions)
        } else {
            SpawnedDescriptors.closeInherited(&actions)
        }
        // The shell lists its own descriptors: what it was given.
        let command: [String] = ["/bin/sh", "-c", "ls /proc/$$/fd"]
        let argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        #expect(posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ) == 0)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}

        let listed = try String(contentsOfFile: output, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(Set(listed) == [0, 1, 2], "the program held \(listed.sorted()); our pipe is \(pipe.fileHandleForWriting.fileDescriptor)")
    }
}
