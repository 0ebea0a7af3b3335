import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class SessionTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.sessionLifetimeSeconds = 3600
        configuration.idleTimeoutSeconds = 0
    }

    func testLoginThenVerifyReturnsTheUserAndRoles() async throws {
        let user = try await fixture.createUser("alice", email: "Alice@Example.com", roles: ["admin", "billing"])
        let login = try await fixture.login("alice")
        XCTAssertEqual(login.token.utf8.count, SessionToken.textLength)
        XCTAssertEqual(login.expiresAt, fixture.clock.now() + 3_600_000)
        let session = try fixture.service.verification.verify(token: login.token)
        XCTAssertEqual(session.userID, user.id)
        XCTAssertEqual(session.sessionID, login.sessionID)
        XCTAssertEqual(session.roles, ["admin", "billing"])
        XCTAssertEqual(session.expiresAt, login.expiresAt)
    }

    func testLoginByEmailIsCaseInsensitive() async throws {
        try await fixture.createUser("alice", email: "Alice@Example.com")
        let login = try await fixture.login("alice@example.COM")
        XCTAssertEqual(login.user.username, "alice")
    }

    func testAbsoluteExpiryToTheMillisecond() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        fixture.clock.set(login.expiresAt - 1)
        XCTAssertNoThrow(try fixture.service.verification.verify(token: login.token))
        fixture.clock.set(login.expiresAt)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }

    func testRequestedLifetimeIsCappedByTheConfiguredOne() async throws {
        try await fixture.createUser("alice")
        let short = try await fixture.login("alice", lifetime: 60)
        XCTAssertEqual(short.expiresAt, fixture.clock.now() + 60_000)
        let long = try await fixture.login("alice", lifetime: 999_999)
        XCTAssertEqual(long.expiresAt, fixture.clock.now() + 3_600_000)
    }

    func testWrongPasswordAndUnknownUserFailIdentically() async throws {
        try await fixture.createUser("alice")
        for identifier in ["alice", "nobody", "nobody@example.com"] {
            do {
                _ = try await fixture.login(identifier, password: "wrong password")
                XCTFail("login must fail")
            } catch {
                XCTAssertEqual(error as? AuthError, .badCredentials, identifier)
            }
        }
    }

    func testLogoutEndsTheSessionAndOnlyThatOne() async throws {
        try await fixture.createUser("alice")
        let first = try await fixture.login("alice")
        let second = try await fixture.login("alice")
        try await fixture.service.sessions.logout(token: first.token)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: first.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        XCTAssertNoThrow(try fixture.service.verification.verify(token: second.token))
        do {
            try await fixture.service.sessions.logout(token: first.token)
            XCTFail("a second logout must fail")
        } catch {
            XCTAssertEqual(error as? AuthError, .tokenInvalid)
        }
    }

    func testForgedAndMalformedTokensAreInvalid() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        var bytes = Array(login.token.utf8)
        // Same session id, different secret: the digest comparison must refuse it.
        bytes[60] = bytes[60] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let forged = String(decoding: bytes, as: UTF8.self)
        for token in [forged, "", "short", String(login.token.dropLast()), login.token + "A", String(repeating: "*", count: 68)] {
            XCTAssertThrowsError(try fixture.service.verification.verify(token: token), token) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        }
    }

    func testSessionsSurviveReopeningTheStore() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        try fixture.reopen()
        XCTAssertEqual(try fixture.service.verification.verify(token: login.token).sessionID, login.sessionID)
    }

    func testTheDatabaseFileNeverHoldsTheTokenOrItsSecret() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let parsed = try XCTUnwrap(SessionToken.parse(login.token))
        var secret = parsed.secret
        let secretBytes = withUnsafeBytes(of: &secret) { Array($0) }
        let file = try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/data.mdb"))
        XCTAssertNil(file.range(of: Data(login.token.utf8)))
        XCTAssertNil(file.range(of: Data(secretBytes)))
        XCTAssertNil(file.range(of: Data("correct horse".utf8)))
        // The session id is there (it names the record); the digest of the secret is there.
        XCTAssertNotNil(file.range(of: Data(login.sessionID.bytes)))
    }

    func testTokenTextRoundTrip() {
        let token = SessionToken.generate(keyID: 0x0102, now: 1_767_225_600_000)
        let parsed = SessionToken.parse(token.text)
        XCTAssertEqual(parsed?.keyID, 0x0102)
        XCTAssertEqual(parsed?.sessionID, token.sessionID)
        XCTAssertTrue(token.text.hasPrefix("AQEC"), "version 1 then key id 0x0102")
    }
}
