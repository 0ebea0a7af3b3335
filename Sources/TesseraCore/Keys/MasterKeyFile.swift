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

        package var description: String {
            switch self {
            case .missing(let path, let data):
                "the master key file \(path) is missing, and the keys in \(data) are sealed under it; restore the file (a new key cannot open them)"
            case .unreadable(let path, let reason): "the master key file \(path) cannot be read: \(reason)"
            case .malformed(let path): "the master key file \(path) is not 64 hexadecimal digits"
            case .cannotCreate(let path, let reason): "the master key file \(path) cannot be created: \(reason)"
            }
        }
    }

    /// The key in `path`, created there when absent and `data` holds no sealed keys.
    @_spi(TesseraInternal) public static func loadOrCreate(path: String, data: String) throws -> (key: MasterKey, created: Bool) {
        if let key = try load(path) { return (key, false) }
        guard try !TesseraStore.isSealed(directory: data) else { throw Failure.missing(path: path, data: data) }
        let key = MasterKey.generate()
        try create(path, key)
        return (key, true)
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
