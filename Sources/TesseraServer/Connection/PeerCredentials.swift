import CEventPoll

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Who is at the other end of a Unix-socket connection: `SO_PEERCRED` and `SO_PEERGROUPS` at
/// accept, the peer's credentials and supplementary groups when it called `connect` (not what
/// its pid holds later, which may be another process by then).
package struct PeerCredentials: Sendable, Equatable, CustomStringConvertible {
    package var uid: UInt32
    package var gid: UInt32
    package var pid: Int32
    /// The primary group and the supplementary groups (`SO_PEERGROUPS`; from `/proc/PID/status`
    /// on a kernel without it, before 4.13).
    package var groups: Set<UInt32>

    package init(uid: UInt32, gid: UInt32, pid: Int32, groups: Set<UInt32> = []) {
        self.uid = uid
        self.gid = gid
        self.pid = pid
        self.groups = groups.union([gid])
    }

    package var description: String { "uid \(uid) gid \(gid) pid \(pid)" }

    /// The credentials of the peer of the connected Unix socket `fd`, or `nil` when the
    /// socket cannot tell (not a Unix socket, or the call failed): such a peer is refused.
    static func read(from fd: Int32) -> PeerCredentials? {
        #if os(Linux)
        var (pid, uid, gid): (Int32, UInt32, UInt32) = (0, 0, 0)
        guard tessera_peer_credentials(fd, &pid, &uid, &gid) == 0 else { return nil }
        return PeerCredentials(uid: uid, gid: gid, pid: pid, groups: peerGroups(of: fd) ?? supplementaryGroups(of: pid))
        #else
        return nil
        #endif
    }

    #if os(Linux)
    /// The peer's groups from `SO_PEERGROUPS`, or `nil` where the kernel lacks the option.
    static func peerGroups(of fd: Int32) -> Set<UInt32>? {
        var groups = [UInt32](repeating: 0, count: 64)
        var count = tessera_peer_groups(fd, &groups, Int32(groups.count))
        if count > groups.count {
            groups = [UInt32](repeating: 0, count: Int(count))
            count = tessera_peer_groups(fd, &groups, Int32(groups.count))
        }
        guard count >= 0, count <= groups.count else { return errno == ENOPROTOOPT ? nil : [] }
        return Set(groups.prefix(Int(count)))
    }
    #endif

    /// The `Groups:` line of `/proc/PID/status`; empty when it cannot be read (the peer then
    /// counts by its uid and primary group alone).
    static func supplementaryGroups(of pid: Int32) -> Set<UInt32> {
        guard pid > 0, let status = try? String(contentsOfProcFile: "/proc/\(pid)/status") else { return [] }
        for line in status.split(separator: "\n") where line.hasPrefix("Groups:") {
            return Set(line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) })
        }
        return []
    }
}

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
