#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the modes of the data directory let other users do. Its records are sealed where they
/// are secrets, but password hashes, token digests and profiles are readable by whoever can read
/// `data.mdb`, and whoever can write the directory above it can put another database in its place.
package enum DataDirectoryPermissions {
    /// One line per mode looser than the daemon needs, each saying what to do; none when the
    /// directory and its files are the daemon's alone.
    package static func warnings(for directory: String) -> [String] {
        var warnings: [String] = []
        var folder = stat()
        if stat(directory, &folder) == 0, folder.st_mode & 0o077 != 0 {
            warnings.append(
                "the data directory \(directory) has mode \(String(folder.st_mode & 0o777, radix: 8)): other users may reach the password hashes and token digests; make it 0700"
            )
        }
        for name in ["data.mdb", "lock.mdb"] {
            var file = stat()
            let path = directory + "/" + name
            if stat(path, &file) == 0, file.st_mode & 0o077 != 0 {
                warnings.append("\(path) has mode \(String(file.st_mode & 0o777, radix: 8)); make it 0600")
            }
        }
        var parent = stat()
        let above = MasterKeyFile.directory(of: directory)
        if stat(above, &parent) == 0, parent.st_mode & 0o002 != 0, parent.st_mode & UInt32(S_ISVTX) == 0 {
            warnings.append("the data directory's parent \(above) is writable by others: anyone may put another data directory in its place")
        }
        return warnings
    }
}
