import Foundation
import SodiumKit
import XCTest

@testable import TesseraCore

/// Guesses sent together cannot outrun the lockout: the lock is read before argon2id and the
/// failure recorded after it, so without a reservation every guess in flight would be checked.
final class ConcurrentGuessTests: XCTestCase {
    func testAtMostThresholdGuessesAreCheckedAndTheRightPasswordIsLocked() async throws {
        let fixture = try CoreFixture {
            // Slow enough (a few ms a hash) that the guesses overlap.
            $0.passwordHasher = PasswordHasher(opsLimit: 2, memLimit: 4 << 20)
            $0.lockout = LockoutPolicy(threshold: 3, baseDelaySeconds: 30, maximumDelaySeconds: 900)
            $0.hashingQueueLimit = 128
        }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")

        let service = fixture.service
        let outcomes = try await withThrowingTaskGroup(of: String.self) { group -> [String] in
            for index in 0..<40 {
                group.addTask {
                    let who = index == 39 ? "right" : "wrong"
                    let password = CoreFixture.secret(index == 39 ? "correct horse" : "wrong guess \(index)")
                    do {
                        _ = try await service.sessions.login(LoginAttempt(identifier: "alice", password: password))
                        return "\(who): ok"
                    } catch AuthError.locked {
                        return "\(who): locked"
                    } catch AuthError.badCredentials {
                        return "\(who): bad-credentials"
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let checked = outcomes.filter { $0 == "wrong: bad-credentials" }.count
        XCTAssertLessThanOrEqual(checked, 3, "\(outcomes.sorted())")
        XCTAssertEqual(outcomes.filter { $0.hasPrefix("wrong") }.count, 39)
        XCTAssertTrue(outcomes.contains("right: locked"), "\(outcomes.sorted())")
        XCTAssertEqual(try fixture.service.accounts.throttleState(.username("alice")).failures, UInt32(checked))
    }
}
