import Foundation
import SodiumKit
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

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

    func testConcurrentChecksAreTheFailuresLeftThenOneAtATime() {
        XCTAssertEqual(policy.concurrentChecks(under: ThrottleState(), now: 0), 3)
        XCTAssertEqual(policy.concurrentChecks(under: ThrottleState(failures: 2), now: 0), 1)
        XCTAssertEqual(policy.concurrentChecks(under: ThrottleState(failures: 3, lockedUntil: 30_000), now: 0), 1)
        XCTAssertEqual(
            policy.concurrentChecks(under: ThrottleState(failures: 3, lockedUntil: 30_000), now: 40_000), 1, "past the threshold: one at a time")
        XCTAssertEqual(
            LockoutPolicy(threshold: 0, baseDelaySeconds: 30, maximumDelaySeconds: 60).concurrentChecks(under: ThrottleState(), now: 0), .max)
    }

    func testAFailureRecordsItsTimeAndAnIdentifierEntryGoesStaleAfterTheLongestDelay() {
        let failed = policy.recordingFailure(ThrottleState(), now: 1_000)
        XCTAssertEqual(failed, ThrottleState(failures: 1, lockedUntil: 0, lastFailureAt: 1_000))
        XCTAssertFalse(policy.isStale(failed, now: 120_999))
        XCTAssertTrue(policy.isStale(failed, now: 121_000))
        let locked = ThrottleState(failures: 9, lockedUntil: 500_000, lastFailureAt: 380_000)
        XCTAssertFalse(policy.isStale(locked, now: 499_999), "never while locked")
        XCTAssertTrue(policy.isStale(locked, now: 500_000))
    }

    func testAStateWrittenBeforeTheLastFailureTimeReadsAsZero() throws {
        var writer = RecordWriter(version: 1)
        writer.write(UInt32(4))
        writer.write(Int64(9_000))
        let state = try writer.bytes.withUnsafeBytes { try ThrottleState(decoding: $0) }
        XCTAssertEqual(state, ThrottleState(failures: 4, lockedUntil: 9_000, lastFailureAt: 0))
        let roundTrip = try state.encoded().withUnsafeBytes { try ThrottleState(decoding: $0) }
        XCTAssertEqual(roundTrip, state)
    }
}
