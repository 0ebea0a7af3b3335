#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The service manager's readiness protocol (systemd's `sd_notify`, `Type=notify`): when the
/// environment names a datagram socket in `NOTIFY_SOCKET`, the daemon sends `READY=1` once its
/// socket accepts connections and `STOPPING=1` when it starts to drain. A supervisor (or a test)
/// waits on that message instead of polling the socket. Without `NOTIFY_SOCKET` nothing is sent.
package enum ServiceManagerNotification {
    package enum State: String, Sendable {
        case ready = "READY=1"
        case stopping = "STOPPING=1"
    }

    /// Sends `state` to `notifySocket`, the value of `NOTIFY_SOCKET` (a path, or `@name` for the
    /// abstract namespace). Best effort: a supervisor that went away must not stop the daemon.
    package static func send(_ state: State, to notifySocket: String?) {
        guard let notifySocket, let address = socketAddress(notifySocket) else { return }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var (storage, length) = address
        let message = Array(state.rawValue.utf8)
        _ = withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                message.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), socketAddress, length) }
            }
        }
    }

    /// The `sockaddr_un` for `NOTIFY_SOCKET`'s value, or nil when it does not fit or is not a
    /// Unix socket name.
    static func socketAddress(_ name: String) -> (sockaddr_un, socklen_t)? {
        var bytes = Array(name.utf8)
        guard let first = bytes.first, first == UInt8(ascii: "/") || first == UInt8(ascii: "@") else { return nil }
        let abstract = first == UInt8(ascii: "@")
        if abstract { bytes[0] = 0 }
        var address = sockaddr_un()
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return nil }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (index, byte) in bytes.enumerated() { path[index] = byte }
        }
        let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
        // A path is terminated by its NUL; an abstract name is exactly its bytes.
        return (address, socklen_t(pathOffset + bytes.count + (abstract ? 0 : 1)))
    }
}
