import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// Revocation reaches every refresh family of a user, including one whose access session
/// expired and was swept before the revoking operation: there is no live session to walk.
final class RevocationTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.sessionLifetimeSeconds = 60
        configuration.idleTimeoutSeconds = 0
        configuration.refreshLifetimeSeconds = 3600
    }

    override func prepare() async throws {
        try await fixture.createUser("alice")
    }

    /// A login whose access session has expired and been swept; its refresh token still works.
    private func sweptLogin() async throws -> LoginResult {
        let login = try await fixture.login("alice")
        fixture.clock.advance(by: 61_000)
        var wrapped = false
        while !wrapped { wrapped = try await fixture.service.sweeper.sweep().wrapped }
        XCTAssertTrue(try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions.isEmpty, "the access session was swept")
        return login
    }

    private func refreshFails(_ token: String, file: StaticString = #filePath, line: UInt = #line) async {
        do {
            _ = try await fixture.service.sessions.refresh(token)
            XCTFail("the family survived", file: file, line: line)
        } catch {
            XCTAssertEqual(error as? AuthError, .tokenRevoked, file: file, line: line)
        }
    }

    func testAnUntouchedSweptFamilyStillRefreshes() async throws {
        let login = try await sweptLogin()
        _ = try await fixture.service.sessions.refresh(login.refreshToken)
    }

    func testChangePasswordRevokesSweptFamiliesButKeepsTheCallersOwn() async throws {
        let swept = try await sweptLogin()
        let current = try await fixture.login("alice")
        try await fixture.service.accounts.changePassword(
            token: current.token, current: CoreFixture.secret("correct horse"), new: CoreFixture.secret("battery staple"))
        await refreshFails(swept.refreshToken)
        _ = try await fixture.service.sessions.refresh(current.refreshToken)
    }

    func testSetPasswordRevokesSweptFamilies() async throws {
        let swept = try await sweptLogin()
        try await fixture.service.accounts.setPassword(.username("alice"), to: CoreFixture.secret("battery staple"))
        await refreshFails(swept.refreshToken)
    }

    func testRevokeAllSessionsRevokesSweptFamiliesButKeepsTheExceptedOne() async throws {
        let swept = try await sweptLogin()
        let kept = try await fixture.login("alice")
        _ = try await fixture.service.sessions.revokeAllSessions(.username("alice"), except: kept.sessionID)
        await refreshFails(swept.refreshToken)
        _ = try await fixture.service.sessions.refresh(kept.refreshToken)
    }

    func testDisablingThenReenablingDoesNotBringFamiliesBack() async throws {
        let swept = try await sweptLogin()
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .disabled)
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .active)
        await refreshFails(swept.refreshToken)
        _ = try await fixture.login("alice")
    }
}

/// A password change, a reset and "log out everywhere" end the user's API keys with the
/// sessions: a key made with a stolen session does not outlive the password that ended it.
final class CredentialRevocationTests: CoreTestCase {
    override func prepare() async throws {
        try await fixture.createUser("alice")
    }

    /// A fresh API key of alice and a check that it verifies.
    private func apiKey() async throws -> String {
        let key = try await fixture.service.apiKeys.create(.username("alice"), NewAPIKey(name: "ci")).key
        XCTAssertNoThrow(try fixture.service.apiKeys.verify(key: key))
        return key
    }

    private func assertEnded(_ key: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try fixture.service.apiKeys.verify(key: key), file: file, line: line) {
            XCTAssertEqual($0 as? AuthError, .tokenRevoked, file: file, line: line)
        }
    }

    func testChangingThePasswordEndsEveryAPIKey() async throws {
        let (first, second) = (try await apiKey(), try await apiKey())
        let session = try await fixture.login("alice")
        try await fixture.service.accounts.changePassword(
            token: session.token, current: CoreFixture.secret("correct horse"), new: CoreFixture.secret("new password 1"))
        assertEnded(first)
        assertEnded(second)
        XCTAssertNoThrow(try fixture.service.verification.verify(token: session.token), "the caller's session stays")
    }

    func testAResetEndsEveryAPIKey() async throws {
        let key = try await apiKey()
        try await fixture.service.accounts.setPassword(.username("alice"), to: CoreFixture.secret("new password 1"))
        assertEnded(key)
    }

    func testLoggingOutEverywhereEndsEveryAPIKeyAndSaysHowMany() async throws {
        let (first, second) = (try await apiKey(), try await apiKey())
        let kept = try await fixture.login("alice")
        _ = try await fixture.login("alice")
        let ended = try await fixture.service.sessions.revokeAllSessions(.username("alice"), except: kept.sessionID)
        XCTAssertEqual(ended.sessions, 1)
        XCTAssertEqual(ended.apiKeys, 2)
        assertEnded(first)
        assertEnded(second)
        let again = try await fixture.service.sessions.revokeAllSessions(.username("alice"), except: kept.sessionID)
        XCTAssertEqual(again.apiKeys, 0, "a revoked key is not counted twice")
    }
}
