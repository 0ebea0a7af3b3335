import CEventPoll

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The daemon's listening Unix socket, bound first: before the daemon gives up root
/// (``ProcessIdentity``), reads its master key or opens its data.
///
/// The file is made with its mode and group at `bind(2)`, nothing done to its path afterwards:
/// the umask gives mode 0660 (the group's members, the web processes, may connect; others may
/// not), and the thread's file-system gid gives the group. A `chmod` or `chown` by path after
/// `bind` could be led by a swapped path to another file; an `fchmod` of the descriptor, the
/// usual cure, does not reach the file at all on Linux (it changes the socket's own inode), so
/// the mode is right from the start instead.
package final class ListeningSocket: Sendable {
    /// Where it listens.
    package let path: String
    /// The socket file's group: whose members are web processes when no `--app-uid` or
    /// `--app-gid` is given.
    package let group: UInt32
    /// The listening descriptor, non-blocking and close-on-exec.
    let descriptor: Int32

    private init(path: String, group: UInt32, descriptor: Int32) {
        self.path = path
        self.group = group
        self.descriptor = descriptor
    }

    /// Binds `path` (a stale socket there is removed, anything else refused), the file owned by
    /// `group` (default: the daemon's effective group). Another group needs root, which may make
    /// files of any group; a daemon without root runs with that group instead (systemd's
    /// `Group=`).
    package static func bind(path: String, group: UInt32? = nil, backlog: Int32 = TesseraServer.backlog) throws -> ListeningSocket {
        try SocketPath.prepare(path)
        let group = group ?? getegid()
        if group != getegid(), geteuid() != 0 {
            throw SocketPathError(
                description:
                    "--socket-group \(group): only root may make the socket file another group's than the daemon's own (\(getegid())); start as root with --user, or run the daemon with that group"
            )
        }
        // Mode 0660 at creation (umask applies to bind(2)), in `group` (this thread's fsgid);
        // both restored straight after.
        let previousMask = umask(0o117)
        let previousGroup = tessera_set_filesystem_gid(group)
        defer {
            _ = tessera_set_filesystem_gid(previousGroup)
            umask(previousMask)
        }
        guard tessera_set_filesystem_gid(group) == group else {
            throw SocketPathError(description: "cannot create the socket file in group \(group)")
        }
        let descriptor = try SocketPath.makeListener(path, backlog: backlog)
        return ListeningSocket(path: path, group: group, descriptor: descriptor)
    }

    /// Closes the socket and removes its file: the daemon stops before it serves.
    package func abandon() {
        close(descriptor)
        unlink(path)
    }
}
