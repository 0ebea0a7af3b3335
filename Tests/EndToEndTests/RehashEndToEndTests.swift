import Foundation
import TesseraClient
import TesseraProtocol
import XCTest

final class RehashEndToEndTests: XCTestCase {
    /// Restarted with stronger argon2id parameters, the daemon re-hashes on the next login:
    /// the new parameters appear in the data file.
    func testOutdatedHashIsReplacedAfterAParameterChange() async throws {
        let weak = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        defer { weak.tearDown() }
        try weak.start()
        let client = TesseraClient(socketPath: weak.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        weak.stop()
        let data = weak.dataPath + "/data.mdb"
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        XCTAssertNotNil(before.range(of: Data("$argon2id$v=19$m=64,t=1,p=1$".utf8)))

        let strong = DaemonProcess(arguments: ["--argon2-ops", "2", "--argon2-mem-kib", "128"])
        defer { strong.tearDown() }
        try FileManager.default.removeItem(atPath: strong.directory)
        try FileManager.default.copyItem(atPath: weak.directory, toPath: strong.directory)
        try strong.start()
        _ = try await TesseraClient(socketPath: strong.socketPath).login(identifier: "alice", password: Array("correct horse".utf8))
        strong.stop()
        let after = try Data(contentsOf: URL(fileURLWithPath: strong.dataPath + "/data.mdb"))
        XCTAssertNotNil(after.range(of: Data("$argon2id$v=19$m=128,t=2,p=1$".utf8)), "the password was re-hashed with the new parameters")
    }
}
