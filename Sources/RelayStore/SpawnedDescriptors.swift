import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a program started with `posix_spawn` inherits of ours: nothing but the descriptors its file actions set.
///
/// `posix_spawn` hands the child every descriptor not marked close-on-exec, and Foundation's `Pipe`, NIO's
/// sockets and others are not. `pg_ctl start` leaves a server running for as long as the cluster lives, so
/// a server started while another thread held a pipe's write end kept that pipe open: a reader waiting for
/// its end (a test reading a command's output) waited forever, and a connection the process had closed
/// stayed open to its peer. (Foundation's `Process` closes them itself.)
public enum SpawnedDescriptors {
    /// Adds to `actions` the child's standard descriptors: input from `/dev/null`, output and errors to the file
    /// at `path` (created or emptied, readable by us alone).
    public static func standardStreams(_ actions: inout posix_spawn_file_actions_t, outputTo path: String) {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }

    /// Adds to `actions` the closing of every descriptor from 3 on, at the point of the file actions where it
    /// is called (after the `dup2`s onto 0, 1 and 2).
    public static func closeInherited(_ actions: inout posix_spawn_file_actions_t) {
        #if os(Linux)
        if let closeFrom = addCloseFrom {
            _ = closeFrom(&actions, 3)
        } else {
            closeEachOpen(&actions)
        }
        #endif
    }

    /// glibc before 2.34: a close action for each descriptor open now. One closed before the spawn is skipped
    /// by glibc (EBADF on a close action is ignored); one opened after this listing would still be inherited.
    static func closeEachOpen(_ actions: inout posix_spawn_file_actions_t) {
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor >= 3 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
    }

    #if os(Linux)
    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34), which its headers declare only for
    /// `_GNU_SOURCE`, so Swift's Glibc module does not import it.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()
    #endif
}
