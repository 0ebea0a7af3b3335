import Foundation
import SodiumKit
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class RefreshTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.refreshGraceSeconds = 10
    }

    override func prepare() async throws {
        try await fixture.createUser("alice")
    }

    private func refreshError(_ token: String) async -> AuthError? {
        do {
            _ = try await fixture.service.sessions.refresh(token)
            return nil
        } catch {
            return error as? AuthError
        }
    }

    func testRotationIssuesANewPairAndEndsThePreviousSession() async throws {
        let login = try await fixture.login("alice")
        let next = try await fixture.service.sessions.refresh(login.refreshToken)
        XCTAssertNotEqual(next.token, login.token)
        XCTAssertNotEqual(next.refreshToken, login.refreshToken)
        XCTAssertEqual(next.refreshExpiresAt, login.refreshExpiresAt, "rotation does not extend the family's lifetime")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        XCTAssertEqual(try fixture.service.verification.verify(token: next.token).userID, login.user.id)
        let again = try await fixture.service.sessions.refresh(next.refreshToken)
        XCTAssertEqual(try fixture.service.verification.verify(token: again.token).userID, login.user.id)
    }

    func testAShortLoginRefreshesIntoSessionsAsShortWithItsIdleTimeout() async throws {
        var attempt = LoginAttempt(identifier: "alice", password: CoreFixture.secret("correct horse"), lifetimeSeconds: 60)
        attempt.idleTimeoutSeconds = 120
        let login = try await fixture.service.sessions.login(attempt)
        XCTAssertEqual(login.expiresAt, fixture.clock.now() + 60_000)
        fixture.clock.advance(by: 30_000)
        let store = fixture.service.store
        var latest = login
        for _ in 0..<2 {
            latest = try await fixture.service.sessions.refresh(latest.refreshToken)
            XCTAssertEqual(latest.expiresAt, fixture.clock.now() + 60_000, "the family keeps the login's lifetime")
            let id = latest.sessionID
            let record = try XCTUnwrap(try store.read { txn in try store.sessionRecord(id, in: txn) })
            XCTAssertEqual(record.idleSeconds, 120, "and its idle timeout")
        }
        // A login that asked for nothing refreshes into the server's lifetime.
        let plain = try await fixture.login("alice")
        let next = try await fixture.service.sessions.refresh(plain.refreshToken)
        XCTAssertEqual(next.expiresAt, fixture.clock.now() + Int64(fixture.service.configuration.sessionLifetimeSeconds) * 1000)
    }

    func testWithNoGraceWindowAnImmediateReplayIsReuse() async throws {
        let fixture = try CoreFixture { $0.refreshGraceSeconds = 0 }
        defer { fixture.tearDown() }
        try await fixture.createUser("bob")
        let login = try await fixture.login("bob")
        _ = try await fixture.service.sessions.refresh(login.refreshToken)
        do {
            _ = try await fixture.service.sessions.refresh(login.refreshToken)
            XCTFail("no window: the replay is reuse, even in the same millisecond")
        } catch {
            XCTAssertEqual(error as? AuthError, .refreshReused)
        }
    }

    func testRetryWithinTheGraceWindowReturnsTheSamePair() async throws {
        let login = try await fixture.login("alice")
        let start = fixture.clock.now()
        let first = try await fixture.service.sessions.refresh(login.refreshToken)
        fixture.clock.set(start + 10_000)
        let retry = try await fixture.service.sessions.refresh(login.refreshToken)
        XCTAssertEqual(retry, first, "the same pair, not a third one")
        XCTAssertNoThrow(try fixture.service.verification.verify(token: first.token))
    }

    func testReplayAfterTheGraceWindowRevokesTheFamily() async throws {
        let login = try await fixture.login("alice")
        let other = try await fixture.login("alice")
        let start = fixture.clock.now()
        let first = try await fixture.service.sessions.refresh(login.refreshToken)
        fixture.clock.set(start + 10_001)
        let replay = await refreshError(login.refreshToken)
        XCTAssertEqual(replay, .refreshReused)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: first.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        let afterTheft = await refreshError(first.refreshToken)
        XCTAssertEqual(afterTheft, .tokenRevoked, "the thief's pair is dead too")
        XCTAssertNoThrow(try fixture.service.verification.verify(token: other.token), "other logins of the user are other families")
    }

    func testConcurrentRefreshesOfOneTokenProduceExactlyOnePair() async throws {
        let login = try await fixture.login("alice")
        let service = fixture.service
        let token = login.refreshToken
        let results = try await withThrowingTaskGroup(of: LoginResult.self) { group in
            for _ in 0..<8 { group.addTask { try await service.sessions.refresh(token) } }
            return try await group.reduce(into: [LoginResult]()) { $0.append($1) }
        }
        XCTAssertEqual(results.count, 8)
        XCTAssertEqual(Set(results.map(\.token)).count, 1)
        XCTAssertEqual(Set(results.map(\.refreshToken)).count, 1)
        XCTAssertEqual(try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions.count, 1)
    }

    func testLogoutEndsTheRefreshFamily() async throws {
        let login = try await fixture.login("alice")
        try await fixture.service.sessions.logout(token: login.token)
        let afterLogout = await refreshError(login.refreshToken)
        XCTAssertEqual(afterLogout, .tokenRevoked)
    }

    func testTokenKindsAreNotInterchangeable() async throws {
        let login = try await fixture.login("alice")
        let asRefresh = await refreshError(login.token)
        XCTAssertEqual(asRefresh, .tokenInvalid)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.refreshToken)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
    }

    func testExpiredRefreshTokenIsRefused() async throws {
        let login = try await fixture.login("alice")
        fixture.clock.set(login.refreshExpiresAt)
        let expired = await refreshError(login.refreshToken)
        XCTAssertEqual(expired, .tokenExpired)
    }

    func testTheDatabaseHoldsNeitherRefreshTokenNorTheSealedPair() async throws {
        let login = try await fixture.login("alice")
        let next = try await fixture.service.sessions.refresh(login.refreshToken)
        let file = try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/data.mdb"))
        for token in [login.refreshToken, next.refreshToken, next.token] {
            XCTAssertNil(file.range(of: Data(token.utf8)), "no token text in the file")
        }
    }
}
