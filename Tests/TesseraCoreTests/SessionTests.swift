import Foundation
import SodiumKit
import XCTest

@testable import TesseraCore

final class SessionTests: XCTestCase {
    var fixture: CoreFixture!
    override func setUp() async throws {
        fixture = try CoreFixture {
            $0.sessionLifetimeSeconds = 3600
            $0.idleTimeoutSeconds = 0
        }
    }
    override func tearDown() { fixture.tearDown() }

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

final class UserTests: XCTestCase {
    var fixture: CoreFixture!
    override func setUp() async throws { fixture = try CoreFixture() }
    override func tearDown() { fixture.tearDown() }

    func testUsernamesAndEmailsAreUniqueIgnoringCase() async throws {
        try await fixture.createUser("alice", email: "a@example.com")
        for (name, email) in [("ALICE", "other@example.com"), ("bob", "A@EXAMPLE.COM")] {
            do {
                try await fixture.createUser(name, email: email)
                XCTFail("\(name) must conflict")
            } catch let AuthError.conflict(why) {
                XCTAssertTrue(why.contains(name == "bob" ? "email" : "username"))
            }
        }
        let bob = try await fixture.createUser("bob", email: "b@example.com")
        XCTAssertEqual(bob.id, 2)
    }

    func testBadInputIsRefusedWithAReason() async throws {
        let cases: [(String, String, String?, [String])] = [
            ("", "correct horse", nil, []),
            (String(repeating: "a", count: 65), "correct horse", nil, []),
            ("has space", "correct horse", nil, []),
            ("alice", "short", nil, []),
            ("alice", String(repeating: "p", count: 1025), nil, []),
            ("alice", "correct horse", "no-at-sign", []),
            ("alice", "correct horse", "two@@example.com", []),
            ("alice", "correct horse", nil, ["has space"]),
        ]
        for (name, password, email, roles) in cases {
            do {
                try await fixture.createUser(name, password: password, email: email, roles: roles)
                XCTFail("must refuse \(name) / \(email ?? "-") / \(roles)")
            } catch let AuthError.invalidArgument(why) {
                XCTAssertFalse(why.isEmpty)
            }
        }
    }

    func testLookupByIdUsernameAndEmail() async throws {
        let alice = try await fixture.createUser("alice", email: "a@example.com")
        XCTAssertEqual(try fixture.service.accounts.user(.id(alice.id)), alice)
        XCTAssertEqual(try fixture.service.accounts.user(.username("Alice")), alice)
        XCTAssertEqual(try fixture.service.accounts.user(.email("A@example.com")), alice)
        XCTAssertThrowsError(try fixture.service.accounts.user(.username("nobody"))) { XCTAssertEqual($0 as? AuthError, .notFound("user")) }
    }

    func testUserRecordRoundTripAndForwardCompatibility() throws {
        let record = UserRecord(
            id: 7, createdAt: 1, updatedAt: 2, state: .active, passwordHash: "$argon2id$x", username: "u",
            email: nil, displayName: "D", roles: ["r1", "r2"])
        var bytes = record.encoded()
        XCTAssertEqual(try bytes.withUnsafeBytes { try UserRecord(decoding: $0) }, record)
        // A newer writer appends fields: this reader ignores them.
        bytes.append(contentsOf: [0xde, 0xad])
        XCTAssertEqual(try bytes.withUnsafeBytes { try UserRecord(decoding: $0) }, record)
        // A truncated record is an error, not garbage.
        XCTAssertThrowsError(try Array(bytes.prefix(10)).withUnsafeBytes { try UserRecord(decoding: $0) })
    }
}

final class HashingPoolTests: XCTestCase {
    func testFullQueueAnswersBusyAtOnce() async throws {
        let pool = HashingPool(threads: 1, queueLimit: 1)
        defer { pool.shutdown() }
        let started = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let first = Task {
            try await pool.run {
                started.signal()
                gate.wait()
            }
        }
        started.wait()  // the only thread is now busy
        let second = Task { try await pool.run {} }
        while pool.waiting < 1 { try await Task.sleep(nanoseconds: 1_000_000) }  // the queue is now full
        do {
            try await pool.run {}
            XCTFail("a third job must be refused")
        } catch {
            XCTAssertEqual(error as? AuthError, .busy)
        }
        gate.signal()
        try await first.value
        try await second.value
    }
}
