#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The user and group the daemon runs as once its socket is bound (`tesserad --user`,
/// `--group`): started as root, it keeps nothing of root after
/// ``ProcessIdentity/assume(_:)``: its uid, gid and only group are the service account's, so
/// its data and master key belong to that account and a flaw in the daemon is not root's.
package struct ProcessIdentity: Sendable, Equatable, CustomStringConvertible {
    package var uid: UInt32
    package var gid: UInt32

    package init(uid: UInt32, gid: UInt32) {
        self.uid = uid
        self.gid = gid
    }

    package var description: String { "uid \(uid) gid \(gid)" }

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// `user` (a name or a uid) with `group` (a name or a gid; default: the user's primary
    /// group).
    package static func resolve(user: String, group: String?) throws(Failure) -> ProcessIdentity {
        guard let account = passwordEntry(user) else { throw Failure(description: "--user \(user): no such user") }
        let gid = try group.map { name throws(Failure) in try Self.group(name, option: "--group") } ?? account.gid
        return ProcessIdentity(uid: account.uid, gid: gid)
    }

    /// The gid of `name` (a group name or a number).
    package static func group(_ name: String, option: String) throws(Failure) -> UInt32 {
        if let number = UInt32(name) { return number }
        guard let entry = getgrnam(name) else { throw Failure(description: "\(option) \(name): no such group") }
        return entry.pointee.gr_gid
    }

    private static func passwordEntry(_ name: String) -> (uid: UInt32, gid: UInt32)? {
        let entry = UInt32(name).flatMap { getpwuid($0) } ?? getpwnam(name)
        if let entry { return (entry.pointee.pw_uid, entry.pointee.pw_gid) }
        // A bare number without a passwd entry is still a uid; its group must then be given or
        // is the same number.
        return UInt32(name).map { ($0, $0) }
    }

    /// Becomes `identity` for good: the supplementary groups are dropped to its group alone,
    /// then the gid and the uid change (as root, `setgid` and `setuid` set the real, effective
    /// and saved ids), and getting root back is checked to fail. Needs root.
    package static func assume(_ identity: ProcessIdentity) throws(Failure) {
        try checkStartedAsRoot()
        var groups = [gid_t(identity.gid)]
        guard setgroups(1, &groups) == 0 else { throw Failure(description: "setgroups: \(String(cString: strerror(errno)))") }
        guard setgid(identity.gid) == 0 else {
            throw Failure(description: "setgid(\(identity.gid)): \(String(cString: strerror(errno)))")
        }
        guard setuid(identity.uid) == 0 else {
            throw Failure(description: "setuid(\(identity.uid)): \(String(cString: strerror(errno)))")
        }
        guard getuid() == identity.uid, geteuid() == identity.uid, getgid() == identity.gid, getegid() == identity.gid else {
            throw Failure(description: "the process did not become \(identity)")
        }
        if identity.uid != 0, setuid(0) == 0 {
            throw Failure(description: "root could be had back after becoming \(identity)")
        }
        let kept = threads(notRunningAs: identity)
        guard kept.isEmpty else {
            throw Failure(description: "threads \(kept) kept their ids after the process became \(identity)")
        }
    }

    /// Fails unless the process may become another user: checked before the socket is bound,
    /// so that the refusal leaves nothing behind.
    package static func checkStartedAsRoot() throws(Failure) {
        guard geteuid() == 0 else {
            throw Failure(description: "--user needs the daemon started as root (it binds the socket, then becomes the user)")
        }
    }

    /// The ids of this process's threads whose real, effective, saved or file-system uid or gid
    /// is not `identity`'s (glibc changes every thread's ids, but skips one it thinks is exiting:
    /// the main thread once the Swift runtime parks it).
    static func threads(notRunningAs identity: ProcessIdentity) -> [String] {
        guard let directory = opendir("/proc/self/task") else { return ["(unreadable /proc/self/task)"] }
        defer { closedir(directory) }
        var kept: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.first?.isNumber == true else { continue }
            guard let status = try? String(contentsOfProcFile: "/proc/self/task/\(name)/status") else { continue }
            let ids = status.split(separator: "\n").filter { $0.hasPrefix("Uid:") || $0.hasPrefix("Gid:") }
            let expected = ["Uid:": identity.uid, "Gid:": identity.gid]
            let matches =
                ids.count == 2
                && ids.allSatisfy { line in
                    let fields = line.split(whereSeparator: \.isWhitespace)
                    return fields.dropFirst().allSatisfy { UInt32($0) == expected[String(fields[0])] }
                }
            if !matches { kept.append(name) }
        }
        return kept
    }
}
