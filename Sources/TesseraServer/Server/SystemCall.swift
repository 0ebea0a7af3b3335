#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A system call that failed: which call, on what, and why.
package struct SystemCallError: Error, Equatable, CustomStringConvertible {
    /// The errno values the server acts on, and every other one.
    package enum Reason: Equatable, Sendable {
        case noSuchFile
        case fileExists
        case permissionDenied
        case other(errno: Int32)

        init(errno: Int32) {
            switch errno {
            case ENOENT: self = .noSuchFile
            case EEXIST: self = .fileExists
            case EACCES, EPERM: self = .permissionDenied
            default: self = .other(errno: errno)
            }
        }

        var errno: Int32 {
            switch self {
            case .noSuchFile: ENOENT
            case .fileExists: EEXIST
            case .permissionDenied: EACCES
            case .other(let errno): errno
            }
        }
    }

    /// The call's name (`lstat`, `unlink`, `chmod`, ...).
    package let call: String
    /// The path it acted on, when it had one.
    package let path: String?
    package let reason: Reason

    package var description: String {
        "\(call)(\(path ?? "")) failed: \(String(cString: strerror(reason.errno)))"
    }
}

/// Runs a system call that returns -1 and sets errno on failure (retrying on `EINTR`), and
/// turns a failure into a ``SystemCallError``. The one place the server reads errno.
@discardableResult
package func systemCall(_ name: String, path: String? = nil, _ body: () -> Int32) throws(SystemCallError) -> Int32 {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw SystemCallError(call: name, path: path, reason: .init(errno: code))
    }
}
