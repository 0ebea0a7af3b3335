import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who is at the other end of a Unix-socket connection: `SO_PEERCRED` at accept (the peer's
/// credentials when it called `connect`), and its supplementary groups.
public struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    /// The primary group and the supplementary groups, from `/proc/PID/status` when readable.
    public var groups: Set<UInt32>

    public init(uid: UInt32, gid: UInt32, pid: Int32, groups: Set<UInt32> = []) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.groups = groups.union([gid])
    }

    public var description: String { "uid \(uid) gid \(gid) pid \(pid)" }

    /// The credentials of the peer of `channel`, or `nil` when the socket cannot tell (not a
    /// Unix socket, or the call failed): such a peer is refused.
    static func read(from channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
        #if os(Linux)
        guard let provider = channel as? any SocketOptionProvider else { return channel.eventLoop.makeSucceededFuture(nil) }
        let future: EventLoopFuture<PeerCredentialsValue> = provider.unsafeGetSocketOption(
            level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
        return future.map { credentials -> PeerCredentials? in
            PeerCredentials(
                uid: credentials.uid, gid: credentials.gid, pid: credentials.pid, groups: supplementaryGroups(of: credentials.pid))
        }.recover { _ in nil }
        #else
        return channel.eventLoop.makeSucceededFuture(nil)
        #endif
    }

    /// The `Groups:` line of `/proc/PID/status`; empty when it cannot be read.
    static func supplementaryGroups(of pid: Int32) -> Set<UInt32> {
        guard pid > 0, let status = try? String(contentsOfProcFile: "/proc/\(pid)/status") else { return [] }
        for line in status.split(separator: "\n") where line.hasPrefix("Groups:") {
            return Set(line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) })
        }
        return []
    }
}

#if os(Linux)
/// Linux's `struct ucred` (`pid_t pid; uid_t uid; gid_t gid;`), which Swift's Glibc module does
/// not import without `_GNU_SOURCE`.
struct PeerCredentialsValue: Sendable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32
}
#endif

extension String {
    /// Reads a small `/proc` file (their size is reported as 0, so read until end of file).
    init(contentsOfProcFile path: String) throws {
        let fd = try systemCall("open", path: path) { open(path, O_RDONLY | O_CLOEXEC) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = try systemCall("read", path: path) { Int32(truncatingIfNeeded: read(fd, &chunk, chunk.count)) }
            if count == 0 { break }
            bytes += chunk[0..<Int(count)]
        }
        self = String(decoding: bytes, as: UTF8.self)
    }
}
