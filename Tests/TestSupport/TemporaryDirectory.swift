import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory of its own under the system's temporary directory (`mkdtemp`, mode 0700),
/// for one test: made by `init`, removed by `remove()`. The one way the suite makes one.
public struct TemporaryDirectory: Sendable {
    /// The directory; it exists.
    public let path: String

    /// `prefix` names what the directory is for (it shows in a leftover's name); `parent` is
    /// the system's temporary directory unless a test needs a short path (a Unix socket's path
    /// is at most 107 bytes).
    public init(_ prefix: String = "tessera", in parent: String = NSTemporaryDirectory()) {
        var template = Array(((parent.hasSuffix("/") ? parent : parent + "/") + prefix + "-XXXXXX").utf8CString)
        path = template.withUnsafeMutableBufferPointer { buffer in
            guard let made = mkdtemp(buffer.baseAddress!) else { preconditionFailure("mkdtemp failed: errno \(errno)") }
            return String(cString: made)
        }
    }

    /// The path of `name` inside the directory (nothing is created).
    public func file(_ name: String) -> String {
        path + "/" + name
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
