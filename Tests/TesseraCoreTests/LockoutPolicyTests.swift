import Foundation
import SodiumKit
import XCTest

@testable import TesseraCore

final class LockoutPolicyTests: XCTestCase {
    let policy = LockoutPolicy(threshold: 3, baseDelaySeconds: 30, maximumDelaySeconds: 120)

    func testDelayDoublesFromTheThresholdUpToTheCap() {
        XCTAssertNil(policy.delay(afterFailures: 0))
        XCTAssertNil(policy.delay(afterFailures: 2))
        XCTAssertEqual(policy.delay(afterFailures: 3), 30_000)
        XCTAssertEqual(policy.delay(afterFailures: 4), 60_000)
        XCTAssertEqual(policy.delay(afterFailures: 5), 120_000)
        XCTAssertEqual(policy.delay(afterFailures: 6), 120_000)
        XCTAssertEqual(policy.delay(afterFailures: .max), 120_000, "no overflow however many failures")
        XCTAssertNil(LockoutPolicy(threshold: 0, baseDelaySeconds: 30, maximumDelaySeconds: 60).delay(afterFailures: 100), "threshold 0 disables")
    }

    func testRetryAfterRoundsUpToWholeSeconds() {
        let state = ThrottleState(failures: 3, lockedUntil: 10_000)
        XCTAssertEqual(state.retryAfter(now: 9_999), 1)
        XCTAssertEqual(state.retryAfter(now: 8_999), 2)
        XCTAssertEqual(state.retryAfter(now: 9_000), 1)
        XCTAssertNil(state.retryAfter(now: 10_000), "the lock ends exactly at locked_until")
    }
}
