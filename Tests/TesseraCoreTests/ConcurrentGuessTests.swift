import Foundation
import Locking
import SodiumKit
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// Guesses sent together cannot outrun the lockout: the lock is only known once each failure is
/// committed, after argon2id, so checks are admitted per account by the failures left.
final class ConcurrentGuessTests: XCTestCase {
    private func fixture(threshold: UInt32) throws -> CoreFixture {
        try CoreFixture {
            // Slow enough (a few ms a hash) that the attempts overlap.
            $0.passwordHasher = PasswordHasher(opsLimit: 2, memLimit: 4 << 20)
            $0.lockout = LockoutPolicy(threshold: threshold, baseDelaySeconds: 30, maximumDelaySeconds: 900)
            $0.hashingQueueLimit = 128
        }
    }

    /// Logs in and says how it went: "ok", "locked" or "bad-credentials".
    private static func login(_ identifier: String, _ password: String, on service: AuthService) async throws -> String {
        do {
            _ = try await service.sessions.login(LoginAttempt(identifier: identifier, password: CoreFixture.secret(password)))
            return "ok"
        } catch let error as AuthError {
            switch error {
            case .locked: return "locked"
            case .badCredentials: return "bad-credentials"
            default: throw error
            }
        }
    }

    private static func guesses(_ count: Int, at identifier: String, on service: AuthService) async throws -> [String] {
        try await withThrowingTaskGroup(of: String.self) { group -> [String] in
            for index in 0..<count {
                group.addTask { try await login(identifier, "wrong guess \(index)", on: service) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    func testAtMostThresholdGuessesAreCheckedBeforeTheLockAndTheRightPasswordIsLocked() async throws {
        let fixture = try fixture(threshold: 3)
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let service = fixture.service
        let key = TesseraStore.identifierThrottleKey("alice")
        let mostAtOnce = Locked<Int>(0)
        let watcher = Task {
            while !Task.isCancelled {
                let now = service.passwords.gate.inFlight(key)
                mostAtOnce.withLock { $0 = max($0, now) }
                await Task.yield()
            }
        }
        async let guesses = Self.guesses(39, at: "alice", on: service)
        // Three guesses are being checked and none has failed yet: without the gate, the right
        // password would be checked too, and log in.
        while service.passwords.gate.inFlight(key) < 3 { await Task.yield() }
        let right = try await Self.login("alice", "correct horse", on: service)
        let wrong = try await guesses
        watcher.cancel()
        XCTAssertEqual(right, "locked")
        XCTAssertEqual(wrong.filter { $0 == "bad-credentials" }.count, 3, "three guesses checked, the rest answered by the lock")
        XCTAssertEqual(wrong.filter { $0 == "locked" }.count, 36)
        XCTAssertLessThanOrEqual(mostAtOnce.withLock { $0 }, 3)
        XCTAssertEqual(try service.accounts.throttleState(.username("alice")).failures, 3, "only checked guesses count")
        XCTAssertEqual(service.passwords.gate.inFlight(key), 0)
    }

    func testABurstOfRightPasswordsForOneAccountAllSucceed() async throws {
        let fixture = try fixture(threshold: 3)
        defer { fixture.tearDown() }
        try await fixture.createUser("service")
        let service = fixture.service
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group -> [String] in
            for _ in 0..<40 {
                group.addTask { try await Self.login("service", "correct horse", on: service) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(outcomes, Array(repeating: "ok", count: 40))
    }

    func testChangePasswordCountsConcurrentWrongCurrentPasswordsTheSameWay() async throws {
        let fixture = try fixture(threshold: 3)
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let token = try await fixture.login("alice").token
        let service = fixture.service
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<10 {
                group.addTask {
                    _ = try? await service.accounts.changePassword(
                        token: token, current: CoreFixture.secret("wrong \(index)"), new: CoreFixture.secret("new password 1"))
                }
            }
        }
        XCTAssertEqual(try service.accounts.throttleState(.username("alice")).failures, 3, "three checked, seven answered by the lock")
        do {
            try await service.accounts.changePassword(
                token: token, current: CoreFixture.secret("correct horse"), new: CoreFixture.secret("new password 1"))
            XCTFail("changed while locked")
        } catch AuthError.locked {
            // Locked: the right current password is refused too.
        }
    }
}
