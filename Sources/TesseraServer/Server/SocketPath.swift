#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why the socket path cannot be used.
package struct SocketPathError: Error, CustomStringConvertible {
    package let description: String
}

/// Prepares the socket path for binding.
///
/// Nothing there: fine. A socket nobody listens on (left by a crashed run): removed. A socket
/// with a live listener: refused, another daemon owns it. A symlink, a regular file or anything
/// else: refused, so the daemon never follows or clobbers what it did not create.
enum SocketPath {
    static func prepare(_ path: String) throws(SocketPathError) {
        guard path.utf8.count < 108 else {
            throw SocketPathError(description: "socket path \(path) is longer than the 107 bytes a Unix socket address holds")
        }
        var info = stat()
        do {
            try systemCall("lstat", path: path) { lstat(path, &info) }
        } catch  where error.reason == .noSuchFile {
            return
        } catch {
            throw SocketPathError(description: "cannot inspect socket path \(path): \(error)")
        }
        switch info.st_mode & S_IFMT {
        case S_IFSOCK:
            if isListening(path) {
                throw SocketPathError(description: "another process is listening on \(path); stop it or choose another --socket")
            }
            do {
                try systemCall("unlink", path: path) { unlink(path) }
            } catch {
                throw SocketPathError(description: "cannot remove stale socket \(path): \(error)")
            }
        case S_IFLNK:
            throw SocketPathError(description: "\(path) is a symbolic link; refusing to use it as the socket path")
        default:
            throw SocketPathError(description: "\(path) exists and is not a socket; refusing to replace it")
        }
    }

    /// A listening socket bound at `path` (prepared), close-on-exec and non-blocking from its
    /// creation; the caller owns the descriptor.
    static func makeListener(_ path: String, backlog: Int32) throws(SystemCallError) -> Int32 {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = try systemCall("socket", path: path) { socket(AF_UNIX, flags, 0) }
        do {
            var address = address(path)
            try systemCall("bind", path: path) {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            try systemCall("listen", path: path) { listen(fd, backlog) }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    private static func isListening(_ path: String) -> Bool {
        guard let fd = try? systemCall("socket", { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }) else {
            return false
        }
        defer { close(fd) }
        var address = address(path)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        return rc == 0
    }

    private static func address(_ path: String) -> sockaddr_un {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return address
    }
}
