import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL server for one test: Debian's `postgresql` binaries, a cluster made by
/// `initdb` in a temporary directory with password authentication (SCRAM-SHA-256), run as an
/// unprivileged user (`nobody` when the suite runs as root: the server refuses root) and
/// listening on a free port of 127.0.0.1 only. Removed with its files by `tearDown()`.
final class PostgresProcess {
    let directory: TemporaryDirectory
    let port: Int
    let user = "unleash"
    let password = "pg-" + UUID().uuidString
    let database = "unleash"
    private var server: Process?
    var logPath: String { directory.file("postgres.log") }
    /// A file holding the password, for `--postgres-password-file`.
    var passwordFile: String { directory.file("password") }
    /// The importer's `--postgres` URL (no password: it is read from `passwordFile`).
    var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// The newest installed server's binaries (`/usr/lib/postgresql/<version>/bin`).
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/postgres") else {
            throw Unavailable("PostgreSQL's server is not installed (scripts/install-deps installs Debian's postgresql)")
        }
        return "\(root)/\(newest)/bin"
    }

    init() throws {
        let bin = try Self.binaries()
        directory = TemporaryDirectory("tessera-pg", in: "/tmp")
        port = try Self.freePort()
        let owner = Self.unprivileged()
        if let owner { chown(directory.path, owner.uid, owner.gid) }
        try Data((password + "\n").utf8).write(to: URL(fileURLWithPath: passwordFile))
        chmod(passwordFile, 0o600)
        if let owner { chown(passwordFile, owner.uid, owner.gid) }
        let initdb = try runCommand(
            "/usr/bin/env",
            Self.asOwner(owner) + [
                "\(bin)/initdb", "-D", directory.file("cluster"), "-U", user, "--auth=scram-sha-256", "--pwfile=\(passwordFile)",
                "--no-sync", "--encoding=UTF8", "--locale=C",
            ])
        guard initdb.status == 0 else { throw Unavailable("initdb failed: \(initdb.stderr)") }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        server = try startLogged(
            ["/usr/bin/env"] + Self.asOwner(owner) + [
                "\(bin)/postgres", "-D", directory.file("cluster"), "-c", "listen_addresses=127.0.0.1", "-c", "port=\(port)",
                "-c", "unix_socket_directories=\(directory.path)", "-c", "fsync=off",
            ], logPath: logPath)
        guard LogWatch.wait(path: logPath, timeout: 60, until: { $0.contains("database system is ready to accept connections") }) else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            tearDown()
            throw Unavailable("PostgreSQL did not start: \(log)")
        }
        _ = try psql("CREATE DATABASE \(database)", database: "postgres")
    }

    /// Runs `sql` (or the file `file`) with psql as the cluster's owner; fails on any error.
    @discardableResult
    func psql(_ sql: String? = nil, file: String? = nil, database: String? = nil) throws -> String {
        var arguments = [
            "PGPASSWORD=\(password)", "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d",
            database ?? self.database, "-tA",
        ]
        if let sql { arguments += ["-c", sql] }
        if let file { arguments += ["-f", file] }
        let result = try runCommand("/usr/bin/env", arguments)
        guard result.status == 0 else { throw PSQLFailure(message: result.stderr) }
        return result.stdout
    }

    struct PSQLFailure: Error { let message: String }
    /// The server could not be made: a failure, not a skip (scripts/install-deps installs it).
    struct Unavailable: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    func tearDown() {
        if let server, server.isRunning {
            kill(server.processIdentifier, SIGINT)  // fast shutdown
            server.waitUntilExit()
        }
        server = nil
        directory.remove()
    }

    /// `nobody` when running as root (PostgreSQL refuses to run as root), else nobody to become.
    private static func unprivileged() -> (uid: uid_t, gid: gid_t)? {
        guard geteuid() == 0, let entry = getpwnam("nobody") else { return nil }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// The `env` arguments that run a command as `owner` (`setpriv`, from util-linux).
    private static func asOwner(_ owner: (uid: uid_t, gid: gid_t)?) -> [String] {
        guard let owner else { return [] }
        return ["setpriv", "--reuid=\(owner.uid)", "--regid=\(owner.gid)", "--clear-groups", "--"]
    }

    /// A port of 127.0.0.1 nothing listens on now (the kernel's choice for port 0).
    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Unavailable("no free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
