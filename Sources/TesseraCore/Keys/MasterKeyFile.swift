import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The master key's file: read it, or create it (mode 0600) for a data directory that has no
/// sealed keys yet. A data directory whose keys are sealed never gets a new master key: a
/// missing or unreadable file is an error.
@_spi(TesseraInternal) public enum MasterKeyFile {
    /// Why the master key could not be had.
    package enum Failure: Error, CustomStringConvertible, Equatable {
        case missing(path: String, data: String)
        case unreadable(path: String, reason: String)
        case malformed(path: String)
        case cannotCreate(path: String, reason: String)
        /// The file would be created where it does not outlive a reboot (a tmpfs or ramfs).
        case volatile(path: String)
        /// The file would be created in the socket's directory, which a service manager empties
        /// (systemd's `RuntimeDirectory=`, `/run` at boot).
        case besideSocket(path: String)
        /// The file would be created inside the data directory, so a copy of the data would
        /// hold the key that opens it.
        case insideData(path: String, data: String)

        package var description: String {
            switch self {
            case .missing(let path, let data):
                "the master key file \(path) is missing, and the keys in \(data) are sealed under it; restore the file (a new key cannot open them)"
            case .unreadable(let path, let reason): "the master key file \(path) cannot be read: \(reason)"
            case .malformed(let path): "the master key file \(path) is not 64 hexadecimal digits"
            case .cannotCreate(let path, let reason): "the master key file \(path) cannot be created: \(reason)"
            case .volatile(let path):
                "the master key file \(path) would be created on a file system that a reboot empties (tmpfs); every sealed key would "
                    + "be lost with it: give --master-key a path on persistent storage, outside the data directory"
            case .besideSocket(let path):
                "the master key file \(path) would be created in the socket's directory, which the service manager empties at "
                    + "every stop or boot: give --master-key a path on persistent storage, outside the data directory"
            case .insideData(let path, let data):
                "the master key file \(path) would be created inside the data directory \(data), so a copy of the data would hold "
                    + "its key: give a path outside it"
            }
        }
    }

    /// The key in `path`, created there when absent and `data` holds no sealed keys. A new file
    /// is never made where it would not outlive a reboot: on a tmpfs, or in `socketDirectory`.
    @_spi(TesseraInternal) public static func loadOrCreate(
        path: String, data: String, socketDirectory: String? = nil
    ) throws -> (key: MasterKey, created: Bool) {
        if let key = try load(path) { return (key, false) }
        guard try !TesseraStore.isSealed(directory: data) else { throw Failure.missing(path: path, data: data) }
        if let refusal = refusal(creating: path, socketDirectory: socketDirectory, dataDirectory: data) { throw refusal }
        let key = MasterKey.generate()
        try create(path, key)
        return (key, true)
    }

    /// The file tesserad uses when `--master-key` is not given: `tessera-master.key` beside
    /// the data directory (in its parent), on the same storage as the data but outside it, so
    /// a copy of the data directory alone holds no key.
    package static func defaultPath(data: String) -> String {
        let parent = directory(of: data)
        return (parent == "/" ? "" : parent) + "/tessera-master.key"
    }

    /// The directory `path` is in (`.` for a bare name), without a trailing slash.
    package static func directory(of path: String) -> String {
        var trimmed = Substring(path)
        while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed = trimmed.dropLast() }
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
    }

    /// Why a new key file may not be made at `path`, or `nil`: a directory a reboot empties
    /// (a tmpfs), or the socket's directory when that is a runtime directory (under `/run`, as
    /// systemd's `RuntimeDirectory=` makes it, removed at every stop). A socket and a key side
    /// by side on persistent storage (the working directory of the quick start) are fine. Nor
    /// is it made inside `dataDirectory` (resolved, so `..` and links do not get around it).
    package static func refusal(creating path: String, socketDirectory: String?, dataDirectory: String? = nil) -> Failure? {
        let directory = directory(of: path)
        if let dataDirectory, isWithin(directory, dataDirectory) { return .insideData(path: path, data: dataDirectory) }
        if isVolatile(directory) { return .volatile(path: path) }
        if let socketDirectory, sameFile(directory, socketDirectory), isRuntimeDirectory(socketDirectory) {
            return .besideSocket(path: path)
        }
        return nil
    }

    /// Whether `directory` is under `/run` (or `/var/run`), where service managers make and
    /// remove runtime directories.
    private static func isRuntimeDirectory(_ directory: String) -> Bool {
        guard let resolved = realpath(directory, nil) else { return false }
        defer { free(resolved) }
        let path = String(cString: resolved)
        return ["/run", "/var/run"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// What is loose about the key file at `path`: a mode that lets others than its owner read
    /// or write it, a directory others may write to (and so replace the file).
    package static func warnings(for path: String) -> [String] {
        var warnings: [String] = []
        var file = stat()
        if stat(path, &file) == 0, file.st_mode & 0o077 != 0 {
            warnings.append("the master key file \(path) has mode \(String(file.st_mode & 0o777, radix: 8)); make it 0600")
        }
        var folder = stat()
        let directory = directory(of: path)
        if stat(directory, &folder) == 0, folder.st_mode & 0o002 != 0, folder.st_mode & UInt32(S_ISVTX) == 0 {
            warnings.append("the master key's directory \(directory) is writable by others: anyone may replace the key file")
        }
        return warnings
    }

    /// Whether `directory` is on a file system a reboot empties (tmpfs, ramfs).
    private static func isVolatile(_ directory: String) -> Bool {
        ["tmpfs", "ramfs"].contains(fileSystemType(of: directory) ?? "")
    }

    /// The type of the file system `directory` is on: the entry of `/proc/self/mounts` with the
    /// longest mount point that contains it (the last such, as later mounts hide earlier ones).
    package static func fileSystemType(of directory: String) -> String? {
        guard let resolved = realpath(directory, nil) else { return nil }
        let path = String(cString: resolved)
        free(resolved)
        guard let mounts = try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8) else { return nil }
        var best: (point: String, type: String)?
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            // Spaces and such in a mount point are written as octal escapes (`\040`).
            let point = String(fields[1]).replacingOccurrences(of: "\\040", with: " ")
            let contains = point == "/" || path == point || path.hasPrefix(point + "/")
            if contains, point.count >= (best?.point.count ?? 0) { best = (point, String(fields[2])) }
        }
        return best?.type
    }

    /// Whether `directory` is `container` or inside it, both resolved.
    private static func isWithin(_ directory: String, _ container: String) -> Bool {
        guard let inner = realpath(directory, nil) else { return false }
        defer { free(inner) }
        guard let outer = realpath(container, nil) else { return false }
        defer { free(outer) }
        let (path, root) = (String(cString: inner), String(cString: outer))
        return path == root || path.hasPrefix(root == "/" ? "/" : root + "/")
    }

    private static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat(), second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return a == b }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// The key in `path`, or `nil` when there is no such file.
    package static func load(_ path: String) throws -> MasterKey? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw Failure.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 256)
        let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        guard count >= 0 else { throw Failure.unreadable(path: path, reason: String(cString: strerror(errno))) }
        guard let key = MasterKey(fileText: String(decoding: buffer[0..<count], as: UTF8.self)) else { throw Failure.malformed(path: path) }
        return key
    }

    /// Writes `key` to a new file at `path` (mode 0600; never over an existing file), durably.
    package static func create(_ path: String, _ key: MasterKey) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Failure.cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        let text = Array(key.fileText.utf8)
        let written = text.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor)
        close(descriptor)
        guard written == text.count, synced == 0 else {
            unlink(path)
            throw Failure.cannotCreate(path: path, reason: "short write")
        }
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let handle = open(directory.isEmpty ? "/" : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if handle >= 0 {
            _ = fsync(handle)
            close(handle)
        }
    }
}
