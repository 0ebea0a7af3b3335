import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// What the daemon does with the socket path and the data directory.
final class DaemonFilesystemTests: XCTestCase {
    var daemon: DaemonProcess!
    override func setUp() { daemon = DaemonProcess() }
    override func tearDown() { daemon.tearDown() }

    func testSocketIsGroupOnlyAndDataDirectoryPrivate() throws {
        try daemon.start()
        var info = stat()
        XCTAssertEqual(lstat(daemon.socketPath, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o660)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFSOCK)
        XCTAssertEqual(stat(daemon.dataPath, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
    }

    func testStaleSocketFromACrashIsReplaced() throws {
        try daemon.start()
        daemon.stop(signal: SIGKILL)
        var info = stat()
        XCTAssertEqual(lstat(daemon.socketPath, &info), 0, "a killed daemon leaves its socket file")
        try daemon.start()
        XCTAssertTrue(RawConnection.canConnect(daemon.socketPath))
    }

    func testSecondDaemonOnALiveSocketIsRefused() throws {
        try daemon.start()
        let second = try runCommand(DaemonProcess.tesserad, ["--socket", daemon.socketPath, "--data", daemon.directory + "/other"])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains("another process is listening"), second.stderr)
        XCTAssertTrue(RawConnection.canConnect(daemon.socketPath), "the first daemon keeps its socket")
    }

    func testSymlinkOrRegularFileAtTheSocketPathIsRefused() throws {
        let target = daemon.directory + "/target"
        _ = FileManager.default.createFile(atPath: target, contents: Data("keep me".utf8))
        XCTAssertEqual(symlink(target, daemon.socketPath), 0)
        let viaLink = try runCommand(DaemonProcess.tesserad, ["--socket", daemon.socketPath, "--data", daemon.dataPath])
        XCTAssertNotEqual(viaLink.status, 0)
        XCTAssertTrue(viaLink.stderr.contains("symbolic link"), viaLink.stderr)
        unlink(daemon.socketPath)

        _ = FileManager.default.createFile(atPath: daemon.socketPath, contents: Data("not a socket".utf8))
        let overFile = try runCommand(DaemonProcess.tesserad, ["--socket", daemon.socketPath, "--data", daemon.dataPath])
        XCTAssertNotEqual(overFile.status, 0)
        XCTAssertTrue(overFile.stderr.contains("not a socket"), overFile.stderr)
        XCTAssertEqual(try String(contentsOfFile: target, encoding: .utf8), "keep me")
        XCTAssertEqual(try String(contentsOfFile: daemon.socketPath, encoding: .utf8), "not a socket")
    }

    func testBadOptionsAreExplained() throws {
        let result = try runCommand(DaemonProcess.tesserad, ["--argon2-ops", "0"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--argon2-ops"), result.stderr)
        // A timeout far past any use is refused at start, not trapped on at the first timer tick.
        for option in ["--connection-idle-timeout", "--frame-timeout"] {
            let huge = try runCommand(DaemonProcess.tesserad, [option, "9223372036854775807", "--socket", daemon.directory + "/huge.sock"])
            XCTAssertEqual(huge.status, 64, "\(option): \(huge.stderr)")
            XCTAssertTrue(huge.stderr.contains(option), huge.stderr)
        }
        let file = daemon.directory + "/bad.toml"
        try "socket = \"ok.sock\"\nlockout-threshold = ten\n".write(toFile: file, atomically: true, encoding: .utf8)
        let badFile = try runCommand(DaemonProcess.tesserad, ["--config", file])
        XCTAssertNotEqual(badFile.status, 0)
        XCTAssertTrue(badFile.stderr.contains("line 2: 'ten' is neither a quoted string, an integer nor an array"), badFile.stderr)
        let missing = try runCommand(DaemonProcess.tesserad, ["--config", daemon.directory + "/absent.toml"])
        XCTAssertTrue(missing.stderr.contains("cannot read the file"), missing.stderr)
        let help = try runCommand(DaemonProcess.tesserad, ["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--socket"))
    }

    /// `mdb_dump` of the data directory after a login shows no raw token and no secret.
    func testDatabaseDumpHoldsNoRawToken() async throws {
        let mdbDump = try Self.mdbDump()
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        await client.close()
        daemon.stop()

        let result = try runCommand(mdbDump, ["-a", daemon.dataPath])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("database=sessions"))
        var raw = [UInt8](repeating: 0, count: 51)
        let decoded = Data(base64Encoded: login.token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=")!
        raw = Array(decoded)
        let secretHex = raw[19..<51].map { String(format: "%02x", $0) }.joined()
        let sessionHex = raw[3..<19].map { String(format: "%02x", $0) }.joined()
        let tokenHex = Array(login.token.utf8).map { String(format: "%02x", $0) }.joined()
        let dumpHex = result.stdout.replacingOccurrences(of: "\n ", with: "")
        XCTAssertTrue(dumpHex.contains(sessionHex), "the session id names the record")
        XCTAssertFalse(dumpHex.contains(secretHex), "the token's secret is not stored")
        XCTAssertFalse(dumpHex.contains(tokenHex), "the token text is not stored")
        XCTAssertFalse(result.stdout.contains(login.token))
    }

    /// The grace box of a retired refresh token (the sealed successor pair) is gone from the
    /// data file once the grace window ended: a copy of the directory taken later, with the old
    /// refresh token, yields nothing.
    func testTheGraceBoxLeavesTheDataFileOnceTheWindowEnded() async throws {
        daemon.tearDown()
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--refresh-grace", "1", "--sweep-interval", "1"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        _ = try await client.refresh(refreshToken: login.refreshToken)
        let retiredID = Self.tokenBytes(login.refreshToken)[3..<19].map { String(format: "%02x", $0) }.joined()

        /// The stored record of the retired refresh token, as hex.
        func retiredRecord() throws -> String {
            let entries = try dumpedEntries(of: "refresh_tokens")
            return try XCTUnwrap(entries.first { $0.key == retiredID }, "the retired token's record").value
        }
        let sealed = try retiredRecord().count / 2
        XCTAssertTrue(daemon.waitForLog { LogWatch.swept("grace_boxes", in: $0) >= 1 }, "the sweeper reports the box")
        let wiped = try retiredRecord().count / 2
        // The box: a 24-byte nonce, a 16-byte tag and the two tokens (68 + 1 + 68 bytes).
        XCTAssertEqual(sealed - wiped, 24 + 16 + 137, "the sealed pair was wiped")
        await client.close()
    }

    /// Every unknown identifier tried leaves a failed-login entry; the sweeper forgets it once
    /// its lock passed and its last failure is older than the longest delay.
    func testTheThrottleEntriesOfUnknownIdentifiersAreSwept() async throws {
        daemon.tearDown()
        daemon = DaemonProcess(arguments: [
            "--argon2-ops", "1", "--argon2-mem-kib", "64", "--lockout-threshold", "2", "--lockout-delay", "1", "--lockout-max-delay", "1",
            "--sweep-interval", "1",
        ])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        for index in 0..<50 {
            _ = try? await client.login(identifier: "ghost-\(index)@example.com", password: Array("guess".utf8))
        }
        let before = try dumpedEntries(of: "throttle").count
        XCTAssertGreaterThanOrEqual(before, 40, "one entry per identifier tried")
        XCTAssertTrue(daemon.waitForLog { LogWatch.swept("throttle_entries", in: $0) >= before }, "the sweeper reports them")
        XCTAssertEqual(try dumpedEntries(of: "throttle").count, 0, "the sweeper forgot every stale entry")
        await client.close()
    }

    /// The key/value pairs (hex) of one database, read by `mdb_dump` from a copy of the data file
    /// taken while the daemon runs.
    private func dumpedEntries(of database: String) throws -> [(key: String, value: String)] {
        let mdbDump = try Self.mdbDump()
        let copy = daemon.directory + "/copy-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: daemon.dataPath + "/data.mdb", toPath: copy + "/data.mdb")
        let result = try runCommand(mdbDump, ["-s", database, copy])
        XCTAssertEqual(result.status, 0, result.stderr)
        // Keys and values alternate between the header and DATA=END, one per line.
        let body = result.stdout.components(separatedBy: "HEADER=END\n").last?.components(separatedBy: "DATA=END").first ?? ""
        let lines = body.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        return stride(from: 0, to: lines.count - 1, by: 2).map { (lines[$0], lines[$0 + 1]) }
    }

    private static func mdbDump() throws -> String {
        let dump = ["/usr/bin/mdb_dump", "/usr/local/bin/mdb_dump"].first { FileManager.default.isExecutableFile(atPath: $0) }
        return try XCTUnwrap(dump, "mdb_dump (Debian's lmdb-utils) is installed by scripts/install-deps")
    }

    private static func tokenBytes(_ token: String) -> [UInt8] {
        Array(Data(base64Encoded: token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=")!)
    }
}
