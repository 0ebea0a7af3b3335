import Foundation
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class AccountChangeTests: CoreTestCase {
    override func prepare() async throws {
        try await fixture.createUser("alice", email: "a@example.com")
    }

    func testChangingThePasswordEndsEveryOtherSession() async throws {
        let here = try await fixture.login("alice")
        let elsewhere = try await fixture.login("alice")
        try await fixture.service.accounts.changePassword(
            token: here.token, current: CoreFixture.secret("correct horse"), new: CoreFixture.secret("battery staple"))
        XCTAssertNoThrow(try fixture.service.verification.verify(token: here.token), "the session that changed it stays")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: elsewhere.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        do {
            _ = try await fixture.service.sessions.refresh(elsewhere.refreshToken)
            XCTFail("the other session's refresh token must be dead")
        } catch {
            XCTAssertEqual(error as? AuthError, .tokenRevoked)
        }
        _ = try await fixture.login("alice", password: "battery staple")
        do {
            _ = try await fixture.login("alice")
            XCTFail("the old password must fail")
        } catch {
            XCTAssertEqual(error as? AuthError, .badCredentials)
        }
    }

    func testChangingThePasswordNeedsTheCurrentOne() async throws {
        let here = try await fixture.login("alice")
        do {
            try await fixture.service.accounts.changePassword(
                token: here.token, current: CoreFixture.secret("guess"), new: CoreFixture.secret("battery staple"))
            XCTFail("must need the current password")
        } catch {
            XCTAssertEqual(error as? AuthError, .badCredentials)
        }
        _ = try await fixture.login("alice")
    }

    func testAdminSetPasswordEndsEverySession() async throws {
        let login = try await fixture.login("alice")
        try await fixture.service.accounts.setPassword(.username("alice"), to: CoreFixture.secret("battery staple"))
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token))
        _ = try await fixture.login("alice", password: "battery staple")
    }

    func testDeletingAUserLeavesNoSessionThatVerifiesAndFreesItsNames() async throws {
        let logins = [try await fixture.login("alice"), try await fixture.login("a@example.com")]
        try await fixture.service.accounts.deleteUser(.username("alice"))
        for login in logins {
            XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
            do {
                _ = try await fixture.service.sessions.refresh(login.refreshToken)
                XCTFail("no refresh after deletion")
            } catch {
                XCTAssertNotNil(error as? AuthError)
            }
        }
        XCTAssertThrowsError(try fixture.service.accounts.user(.username("alice")))
        do {
            _ = try await fixture.login("alice")
            XCTFail("a deleted user cannot log in")
        } catch {
            XCTAssertEqual(error as? AuthError, .badCredentials)
        }
        let again = try await fixture.createUser("alice", email: "a@example.com")
        XCTAssertEqual(again.id, 2, "ids are never reused")
    }

    func testListUsersPages() async throws {
        for name in ["bob", "carol", "dave"] { try await fixture.createUser(name) }
        let first = try fixture.service.accounts.listUsers(limit: 2)
        XCTAssertEqual(first.map(\.username), ["alice", "bob"])
        let second = try fixture.service.accounts.listUsers(after: first.last!.id, limit: 2)
        XCTAssertEqual(second.map(\.username), ["carol", "dave"])
        XCTAssertEqual(try fixture.service.accounts.listUsers(after: second.last!.id, limit: 2), [])
        XCTAssertThrowsError(try fixture.service.accounts.listUsers(limit: 0))
    }
}
