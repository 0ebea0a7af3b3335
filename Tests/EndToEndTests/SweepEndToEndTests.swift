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
        XCTAssertTrue(daemon.waitForLog { LogWatch.swept("sessions", in: $0) >= 1 }, "the sweeper reports the session")
        let remaining = try await client.sessions(of: .username("alice")).count
        XCTAssertEqual(remaining, 0, "the expired session was swept")
        do {
            _ = try await client.verify(token: login.token)
            XCTFail("verified after its expiry")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .tokenExpired, "swept, the token still reads expired, so its holder refreshes")
        }
        let renewed = try await client.refresh(refreshToken: login.refreshToken)
        _ = try await client.verify(token: renewed.token)
    }

    /// A refresh family whose access session expired and was swept is still revoked by a
    /// password reset, "log out everywhere", disabling (and re-enabling) and a password change.
    func testRevocationReachesFamiliesWhoseSessionWasSwept() async throws {
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--session-lifetime", "1", "--sweep-interval", "1"])
        defer { daemon.tearDown() }
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        let password = Array("correct horse".utf8)
        var refreshTokens: [String: String] = [:]
        for name in ["reset", "everywhere", "disabled", "changed"] {
            _ = try await client.createUser(username: name, password: password)
            refreshTokens[name] = try await client.login(identifier: name, password: password).refreshToken
        }
        XCTAssertTrue(daemon.waitForLog { LogWatch.swept("sessions", in: $0) >= 4 }, "the sweeper reports the four sessions")
        var remaining = 0
        for name in refreshTokens.keys { remaining += try await client.sessions(of: .username(name)).count }
        XCTAssertEqual(remaining, 0, "every access session expired and was swept")

        try await client.setPassword(.username("reset"), password: Array("battery staple".utf8))
        _ = try await client.revokeAllSessions(of: .username("everywhere"))
        _ = try await client.setUserState(.username("disabled"), to: .disabled)
        _ = try await client.setUserState(.username("disabled"), to: .active)
        let caller = try await client.login(identifier: "changed", password: password)
        try await client.changePassword(token: caller.token, current: password, new: Array("battery staple".utf8))

        for (name, token) in refreshTokens.sorted(by: { $0.key < $1.key }) {
            do {
                _ = try await client.refresh(refreshToken: token)
                XCTFail("\(name): the swept family still refreshed")
            } catch let TesseraClientError.server(error) {
                XCTAssertEqual(error.code, .tokenRevoked, name)
            }
        }
        _ = try await client.refresh(refreshToken: caller.refreshToken)
    }
}
