import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class LoginPolicyTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.lockout = LockoutPolicy(threshold: 3, baseDelaySeconds: 30, maximumDelaySeconds: 120)
    }

    private func expectFailure(
        _ expected: AuthError, _ identifier: String, password: String = "wrong password", _ message: String = "",
        file: StaticString = #filePath, line: UInt = #line
    ) async {
        let got = await failure(identifier, password: password)
        XCTAssertEqual(got, expected, message, file: file, line: line)
    }

    private func failure(_ identifier: String, password: String = "wrong password") async -> AuthError? {
        do {
            _ = try await fixture.login(identifier, password: password)
            return nil
        } catch {
            return error as? AuthError
        }
    }

    func testLockoutBackoffAndReset() async throws {
        try await fixture.createUser("alice")
        let start = fixture.clock.now()
        await expectFailure(.badCredentials, "alice")
        await expectFailure(.badCredentials, "alice")
        await expectFailure(.badCredentials, "alice", "the third failure still reads bad-credentials; it sets the lock")
        // Locked: every password is refused alike, with the time to wait.
        await expectFailure(.locked(retryAfterSeconds: 30), "alice", password: "correct horse")
        await expectFailure(.locked(retryAfterSeconds: 30), "alice")
        fixture.clock.set(start + 29_001)
        await expectFailure(.locked(retryAfterSeconds: 1), "alice", password: "correct horse")
        fixture.clock.set(start + 30_000)
        // The lock passed; one more failure doubles the delay.
        await expectFailure(.badCredentials, "alice")
        await expectFailure(.locked(retryAfterSeconds: 60), "alice", password: "correct horse")
        fixture.clock.advance(by: 60_000)
        await expectFailure(.badCredentials, "alice")
        await expectFailure(.locked(retryAfterSeconds: 120), "alice")
        fixture.clock.advance(by: 120_000)
        // A success resets both counts: two more failures do not lock.
        _ = try await fixture.login("alice")
        XCTAssertEqual(try fixture.service.accounts.throttleState(.username("alice")), ThrottleState())
        XCTAssertEqual(try throttle("alice"), ThrottleState())
        await expectFailure(.badCredentials, "alice")
        await expectFailure(.badCredentials, "alice")
        _ = try await fixture.login("alice")
    }

    func testALockedIdentifierAnswersTheSameWhateverThePasswordAndDoesNotCount() async throws {
        try await fixture.createUser("alice")
        for _ in 0..<3 { await expectFailure(.badCredentials, "alice") }
        for password in ["correct horse", "wrong password", "correct horse", "another guess"] {
            await expectFailure(.locked(retryAfterSeconds: 30), "alice", password: password)
        }
        XCTAssertEqual(try fixture.service.accounts.throttleState(.username("alice")).failures, 3, "an attempt under a lock is not counted")
        XCTAssertEqual(try throttle("alice").failures, 3)
        XCTAssertEqual(try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions, [], "no session was opened while locked")
        fixture.clock.advance(by: 30_000)
        _ = try await fixture.login("alice")
    }

    /// Under a lock no argon2id runs: an attempt at a locked identifier, right password or wrong,
    /// is answered without a password check (it waits as long as one, ``CheckPace``), where each
    /// attempt at an unlocked identifier runs one.
    func testALockedIdentifierIsAnsweredWithoutHashing() async throws {
        let fixture = try CoreFixture {
            $0.lockout = LockoutPolicy(threshold: 3, baseDelaySeconds: 30, maximumDelaySeconds: 120)
            $0.passwordHasher = PasswordHasher(opsLimit: 2, memLimit: 8 << 20)
        }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let beforeChecks = fixture.service.passwords.checksStarted
        for index in 0..<3 { _ = try? await fixture.login("ghost-\(index)", password: "wrong password") }
        for _ in 0..<3 { _ = try? await fixture.login("alice", password: "wrong password") }
        XCTAssertEqual(fixture.service.passwords.checksStarted - beforeChecks, 6, "each attempt at an unlocked identifier runs one check")
        let beforeLocked = fixture.service.passwords.checksStarted
        for password in Array(repeating: ["correct horse", "wrong password"], count: 6).joined() {
            do {
                _ = try await fixture.login("alice", password: password)
                XCTFail("a locked identifier let a login through")
            } catch let error as AuthError {
                XCTAssertEqual(error, .locked(retryAfterSeconds: 30))
            }
        }
        XCTAssertEqual(fixture.service.passwords.checksStarted, beforeLocked, "no argon2id ran for an attempt under the lock")
        XCTAssertEqual(try fixture.service.accounts.throttleState(.username("alice")).failures, 3)
    }

    func testAnAccountLockedThroughOneIdentifierAnswersItsOthersLikeUnknownIdentifiers() async throws {
        try await fixture.createUser("alice", email: "alice@example.com")
        for _ in 0..<3 { await expectFailure(.badCredentials, "alice") }
        // Through its email the locked account reads as an unknown identifier does, right password
        // or not: `bad-credentials`, counted against the identifier, until the identifier locks.
        for round in 0..<3 {
            await expectFailure(.badCredentials, "alice@example.com", password: "correct horse", "round \(round)")
            await expectFailure(.badCredentials, "nobody@example.com", "round \(round)")
        }
        XCTAssertEqual(try throttle("alice@example.com"), try throttle("nobody@example.com"))
        await expectFailure(.locked(retryAfterSeconds: 30), "alice@example.com", password: "correct horse")
        await expectFailure(.locked(retryAfterSeconds: 30), "nobody@example.com")
        XCTAssertEqual(
            try fixture.service.accounts.throttleState(.username("alice")).failures, 3, "unevaluated attempts do not push the account's lock")
        XCTAssertEqual(try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions, [])
    }

    func testGuessesSpreadOverAUsersIdentifiersLockTheAccount() async throws {
        try await fixture.createUser("alice", email: "alice@example.com", phone: "+15550100")
        await expectFailure(.badCredentials, "alice")
        await expectFailure(.badCredentials, "alice@example.com")
        await expectFailure(.badCredentials, "+15550100")
        // No identifier is locked, the account is: the right password is not checked.
        XCTAssertEqual(try throttle("alice").failures, 1)
        await expectFailure(.badCredentials, "alice", password: "correct horse")
        fixture.clock.advance(by: 30_000)
        _ = try await fixture.login("alice@example.com")
        XCTAssertEqual(try fixture.service.accounts.throttleState(.username("alice")), ThrottleState())
    }

    func testUnknownIdentifiersLockTheSameWay() async throws {
        for _ in 0..<3 { await expectFailure(.badCredentials, "ghost") }
        XCTAssertEqual(try throttle("ghost").lockedUntil, fixture.clock.now() + 30_000)
        await expectFailure(.locked(retryAfterSeconds: 30), "GHOST", "identifiers are matched ignoring case")
        XCTAssertEqual(try throttle("ghost").failures, 3)
    }

    /// The throttle entry of a login identifier.
    private func throttle(_ identifier: String) throws -> ThrottleState {
        let store = fixture.service.store
        return try store.read { try store.throttleState(TesseraStore.identifierThrottleKey(identifier), in: $0) }
    }

    func testAdminUnlockClearsTheLocksOfTheAccountAndItsIdentifiers() async throws {
        try await fixture.createUser("alice", email: "alice@example.com")
        for _ in 0..<3 { _ = await failure("alice") }
        for _ in 0..<3 { _ = await failure("alice@example.com") }
        await expectFailure(.locked(retryAfterSeconds: 30), "alice", password: "correct horse")
        try await fixture.service.accounts.unlock(.username("alice"))
        XCTAssertEqual(try throttle("alice@example.com"), ThrottleState())
        _ = try await fixture.login("alice")
        _ = try await fixture.login("alice@example.com")
    }

    func testStateIsRevealedOnlyAfterTheRightPassword() async throws {
        try await fixture.createUser("alice")
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .unvalidated)
        await expectFailure(.badCredentials, "alice")
        await expectFailure(.accountNotValidated, "alice", password: "correct horse")
        let code = try await fixture.service.accounts.newValidationCode(for: .username("alice")).code.code
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .disabled)
        await expectFailure(.inactiveAccount, "alice", password: "correct horse")
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .unvalidated)
        let validated = try await fixture.service.accounts.validate(code: code)
        XCTAssertEqual(validated.state, .active)
        _ = try await fixture.login("alice")
        do {
            _ = try await fixture.service.accounts.validate(code: code)
            XCTFail("a code works once")
        } catch {
            XCTAssertEqual(error as? AuthError, .tokenInvalid)
        }
    }

    func testDisablingAnAccountEndsItsSessions() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let profile = try await fixture.service.accounts.setState(.username("alice"), to: .disabled)
        XCTAssertEqual(profile.state, .disabled)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
    }

    func testOutdatedHashIsReplacedOnSuccessfulLogin() async throws {
        try await fixture.createUser("alice")
        let before = try fixture.service.store.read { try fixture.service.store.user(identifier: "alice", in: $0)!.passwordHash }
        XCTAssertTrue(before.contains("t=1"))
        var stronger = fixture.service.configuration
        stronger.passwordHasher = PasswordHasher(opsLimit: 2, memLimit: 128 * 1024)
        try fixture.reopen(with: stronger)
        let upgraded = fixture.service
        var password = Array("correct horse".utf8)
        _ = try await upgraded.sessions.login(LoginAttempt(identifier: "alice", password: SecretBytes(wiping: &password)))
        let after = try upgraded.store.read { try upgraded.store.user(identifier: "alice", in: $0)!.passwordHash }
        XCTAssertTrue(after.hasPrefix("$argon2id$v=19$m=128,t=2,p=1$"), after)
        XCTAssertFalse(stronger.passwordHasher.needsRehash(after))
        var again = Array("correct horse".utf8)
        _ = try await upgraded.sessions.login(LoginAttempt(identifier: "alice", password: SecretBytes(wiping: &again)))
    }

    func testListRevokeAndRevokeAllButOne() async throws {
        try await fixture.createUser("alice")
        let first = try await fixture.service.sessions.login(
            LoginAttempt(
                identifier: "alice", password: CoreFixture.secret("correct horse"),
                clientIP: "203.0.113.1", userAgent: "ua-1"))
        fixture.clock.advance(by: 1000)
        let second = try await fixture.login("alice")
        fixture.clock.advance(by: 1000)
        let third = try await fixture.login("alice")
        let listed = try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions.sorted { $0.createdAt < $1.createdAt }
        XCTAssertEqual(listed.map(\.id), [first.sessionID, second.sessionID, third.sessionID])
        XCTAssertEqual(listed[0].clientIP, "203.0.113.1")
        XCTAssertEqual(listed[0].userAgent, "ua-1")

        try await fixture.service.sessions.revokeSession(second.sessionID)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: second.token))
        do {
            try await fixture.service.sessions.revokeSession(second.sessionID)
            XCTFail("already revoked")
        } catch {
            XCTAssertEqual(error as? AuthError, .notFound("session"))
        }
        let ended = try await fixture.service.sessions.revokeAllSessions(.username("alice"), except: third.sessionID)
        XCTAssertEqual(ended.sessions, 1)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: first.token))
        XCTAssertNoThrow(try fixture.service.verification.verify(token: third.token))
        XCTAssertEqual(try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions.map(\.id), [third.sessionID])
    }
}
