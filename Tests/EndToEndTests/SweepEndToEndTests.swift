import Foundation
import TesseraClient
import TesseraProtocol
import XCTest

final class SweepEndToEndTests: XCTestCase {
    func testTheDaemonRemovesExpiredSessionsInTheBackground() async throws {
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--session-lifetime", "1", "--sweep-interval", "1"])
        defer { daemon.tearDown() }
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let listed = try await client.sessions(of: .username("alice"))
        XCTAssertEqual(listed.count, 1)
        var remaining = listed.count
        for _ in 0..<40 where remaining > 0 {
            try await Task.sleep(nanoseconds: 100_000_000)
            remaining = try await client.sessions(of: .username("alice")).count
        }
        XCTAssertEqual(remaining, 0, "the expired session was swept")
        do {
            _ = try await client.verify(token: login.token)
            XCTFail("verified after its expiry")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.status, .tokenExpired, "swept, the token still reads expired, so its holder refreshes")
        }
        let renewed = try await client.refresh(refreshToken: login.refreshToken)
        _ = try await client.verify(token: renewed.token)
    }
}
