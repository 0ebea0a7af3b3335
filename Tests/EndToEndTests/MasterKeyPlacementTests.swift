import Foundation
import TesseraClient
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The master key outlives a reboot: by default it is beside the data directory, not beside
/// the socket, whose directory a service manager empties; a key an earlier version left beside
/// the socket is moved; a key is never created on a tmpfs. The real daemon, its socket in a
/// directory of its own that the tests empty as a reboot would.
final class MasterKeyPlacementTests: XCTestCase {
    var daemon: DaemonProcess!
    var runtime: TemporaryDirectory!
    let password = Array("correct horse".utf8)

    override func setUp() {
        daemon = DaemonProcess()
        runtime = TemporaryDirectory("tessera-run", in: "/tmp")
        daemon.socketPath = runtime.file("t.sock")
    }

    override func tearDown() {
        daemon.tearDown()
        runtime.remove()
    }

    private var besideData: String { daemon.directory + "/tessera-master.key" }

    /// What a reboot does to a runtime directory: it is gone, and made again empty.
    private func reboot() {
        runtime.remove()
        XCTAssertEqual(mkdir(runtime.path, 0o700), 0)
    }

    func testTheDefaultKeyLivesBesideTheDataAndASessionOutlivesAReboot() async throws {
        try daemon.start()
        var info = stat()
        XCTAssertEqual(stat(besideData, &info), 0, "the key is beside the data directory")
        XCTAssertEqual(info.st_mode & 0o777, 0o600)
        XCTAssertFalse(FileManager.default.fileExists(atPath: runtime.file("tessera-master.key")), "nothing secret beside the socket")
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: password)
        let token = try await client.login(identifier: "alice", password: password).token

        daemon.stop()
        reboot()
        try daemon.start()
        let verified = try await TesseraClient(socketPath: daemon.socketPath).verify(token: token)
        XCTAssertEqual(verified.userID, 1, "the sealed keys opened: the session verifies after the reboot")
    }

    func testAKeyAnEarlierVersionLeftBesideTheSocketMovesBesideTheData() async throws {
        let former = runtime.file("tessera-master.key")
        daemon.extraArguments += ["--master-key", former]
        try daemon.start()
        _ = try await TesseraClient(socketPath: daemon.socketPath).createUser(username: "alice", password: password)
        daemon.stop()
        XCTAssertFalse(FileManager.default.fileExists(atPath: besideData))
        let key = try String(contentsOfFile: former, encoding: .utf8)

        daemon.extraArguments.removeLast(2)
        try daemon.start()
        XCTAssertFalse(FileManager.default.fileExists(atPath: former), "no copy of the key is left beside the socket")
        XCTAssertEqual(try String(contentsOfFile: besideData, encoding: .utf8), key, "the same key, beside the data")
        XCTAssertTrue(daemon.log.contains("master key moved"), daemon.log)
        daemon.stop()
        reboot()
        try daemon.start()
        _ = try await TesseraClient(socketPath: daemon.socketPath).login(identifier: "alice", password: password)
    }

    func testNoKeyIsCreatedOnATmpfsOrInARuntimeSocketDirectory() throws {
        var refused: [String] = []
        if (try? String(contentsOfFile: "/proc/self/mounts", encoding: .utf8))?.contains(" /dev/shm tmpfs ") == true {
            let volatile = TemporaryDirectory("tessera-shm", in: "/dev/shm")
            defer { volatile.remove() }
            let result = try runCommand(
                DaemonProcess.tesserad, ["--socket", daemon.socketPath, "--data", daemon.dataPath, "--master-key", volatile.file("k")])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("a reboot empties"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: volatile.file("k")))
            refused.append("tmpfs")
        }
        if access("/run", W_OK) == 0 {
            let run = TemporaryDirectory("tessera-run", in: "/run")
            defer { run.remove() }
            // The old default: the key beside a socket in /run.
            let result = try runCommand(DaemonProcess.tesserad, ["--socket", run.file("t.sock"), "--data", run.file("data")])
            XCTAssertNotEqual(result.status, 0)
            XCTAssertTrue(result.stderr.contains("socket's directory") || result.stderr.contains("a reboot empties"), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: run.file("tessera-master.key")))
            refused.append("/run")
        }
        if refused.isEmpty { throw XCTSkip("neither a tmpfs at /dev/shm nor a writable /run here") }
    }

    func testALooseKeyFileIsWarnedAbout() throws {
        try daemon.start()
        daemon.stop()
        XCTAssertEqual(chmod(besideData, 0o644), 0)
        try daemon.start()
        XCTAssertTrue(daemon.waitForLog { $0.contains("has mode 644; make it 0600") }, daemon.log)
    }
}
