import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A full disk answers `storage-full`, reads go on, and writes resume when room returns.
final class StorageFaultTests: XCTestCase {
    var daemon: DaemonProcess!
    var mountPoint: String?
    override func tearDown() {
        daemon?.tearDown()
        if let mountPoint { _ = try? runCommand("/bin/umount", [mountPoint]) }
    }

    func testADiskFullAnswersStorageFullAndWritesResumeWhenRoomReturns() async throws {
        daemon = DaemonProcess()
        let data = daemon.directory + "/small"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let mount = try runCommand("/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", data])
        guard getuid() == 0, mount.status == 0 else { throw XCTSkip("needs root and tmpfs to fill a disk: \(mount.stderr)") }
        mountPoint = data
        daemon.extraArguments = ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--data", data, "--initial-map-mib", "1"]
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        // About 8 KB a user (settings hold at most 1 KiB a value).
        let settings = Dictionary(uniqueKeysWithValues: (0..<8).map { ("note\($0)", String(repeating: "x", count: 1000)) })
        var created = 0
        var full: TesseraError?
        while full == nil, created < 1000 {
            do {
                _ = try await client.register(
                    NewUser(username: "user\(created)", password: Array("correct horse".utf8), settings: settings))
                created += 1
            } catch let TesseraClientError.server(error) {
                full = error
            }
        }
        XCTAssertEqual(full?.code, .storageFull, "\(String(describing: full)) after \(created) users")
        XCTAssertGreaterThan(created, 10)
        let read = try await client.user(.username("user0"))
        XCTAssertEqual(read.username, "user0", "reads are still served")

        XCTAssertEqual(try runCommand("/bin/mount", ["-o", "remount,size=64m", data]).status, 0)
        _ = try await client.register(NewUser(username: "after", password: Array("correct horse".utf8)))
        await client.close()
    }
}
