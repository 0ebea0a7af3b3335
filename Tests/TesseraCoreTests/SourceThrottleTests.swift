import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// The per-source bucket of failed logins, on a number line of milliseconds: no socket, no
/// LMDB, no sleeping.
final class SourceThrottleTests: XCTestCase {
    private let start: Timestamp = 1_700_000_000_000

    func testABurstOfFailuresThenOneAMinuteEachAnsweredWithItsWait() {
        let throttle = SourceThrottle(policy: SourceThrottlePolicy(burst: 3, perMinute: 2, quietSeconds: 600))
        for index in 0..<3 {
            XCTAssertEqual(throttle.admit("203.0.113.5", now: start), .admitted(clean: false), "attempt \(index): a source never seen")
            throttle.settle("203.0.113.5", .failed, now: start)
        }
        // Two a minute: the next failure is back 30 s later.
        XCTAssertEqual(throttle.admit("203.0.113.5", now: start), .refused(retryAfterSeconds: 30))
        XCTAssertEqual(throttle.admit("203.0.113.5", now: start + 20_000), .refused(retryAfterSeconds: 10))
        XCTAssertEqual(throttle.admit("203.0.113.5", now: start + 30_000), .admitted(clean: false), "a failure 30 s ago is not quiet")
        XCTAssertEqual(throttle.admit("203.0.113.5", now: start + 30_000), .refused(retryAfterSeconds: 30), "the reserved one is spent")
        // Another address is its own source.
        XCTAssertEqual(throttle.admit("203.0.113.6", now: start + 30_000), .admitted(clean: false))
    }

    func testASuccessGivesItsReservationBackSoAnOfficeBehindOneAddressLogsInAllDay() {
        let throttle = SourceThrottle(policy: SourceThrottlePolicy(burst: 2, perMinute: 1, quietSeconds: 600))
        for minute in 0..<1_000 {
            let now = start + Timestamp(minute) * 1_000
            XCTAssertEqual(throttle.admit("198.51.100.1", now: now), .admitted(clean: minute > 0), "login \(minute)")
            throttle.settle("198.51.100.1", .succeeded, now: now)
        }
    }

    func testASourceIsCleanOnlyOnceItHasLoggedInWithNoRecentFailureAndOneAttemptAtATime() {
        let throttle = SourceThrottle(policy: SourceThrottlePolicy(burst: 20, perMinute: 10, quietSeconds: 600))
        XCTAssertEqual(throttle.admit("192.0.2.9", now: start), .admitted(clean: false), "never seen")
        throttle.settle("192.0.2.9", .other, now: start)
        XCTAssertEqual(throttle.admit("192.0.2.9", now: start), .admitted(clean: false), "a lock or 2fa-required is no login")
        throttle.settle("192.0.2.9", .succeeded, now: start)
        XCTAssertEqual(throttle.admit("192.0.2.9", now: start), .admitted(clean: true), "logged in")
        XCTAssertEqual(throttle.admit("192.0.2.9", now: start), .admitted(clean: false), "one already in flight")
        throttle.settle("192.0.2.9", .failed, now: start)
        throttle.settle("192.0.2.9", .succeeded, now: start)
        XCTAssertEqual(throttle.admit("192.0.2.9", now: start + 599_999), .admitted(clean: false), "failed under 10 minutes ago")
        throttle.settle("192.0.2.9", .succeeded, now: start + 599_999)
        XCTAssertEqual(throttle.admit("192.0.2.9", now: start + 600_000), .admitted(clean: true), "quiet for 10 minutes")
    }

    func testAnIPv6SourceIsItsSlash64AndAnIPv4MappedAddressItsIPv4() {
        let throttle = SourceThrottle(policy: SourceThrottlePolicy(burst: 1, perMinute: 1, quietSeconds: 600))
        XCTAssertEqual(throttle.admit("2001:db8:1:2::1", now: start), .admitted(clean: false))
        throttle.settle("2001:db8:1:2::1", .failed, now: start)
        XCTAssertEqual(throttle.admit("2001:db8:1:2:ffff:ffff:ffff:ffff", now: start), .refused(retryAfterSeconds: 60), "the same /64")
        XCTAssertNotEqual(throttle.admit("2001:db8:1:3::1", now: start), .refused(retryAfterSeconds: 60), "another /64")
        XCTAssertEqual(throttle.admit("192.0.2.1", now: start), .admitted(clean: false))
        throttle.settle("192.0.2.1", .failed, now: start)
        XCTAssertEqual(throttle.admit("::ffff:192.0.2.1", now: start), .refused(retryAfterSeconds: 60))
        XCTAssertEqual(SourceThrottle.key("192.0.2.1").count, 5)
        XCTAssertNotEqual(SourceThrottle.key("abc"), SourceThrottle.key("97.98.99.0"), "text never reads as an address")
    }

    func testTheTableStaysBoundedAndANewSourceWithoutRoomIsNeverClean() {
        let throttle = SourceThrottle(policy: SourceThrottlePolicy(burst: 2, perMinute: 1, quietSeconds: 600), capacity: 100)
        for index in 0..<100 {
            _ = throttle.admit("10.0.0.\(index)", now: start)
            throttle.settle("10.0.0.\(index)", .failed, now: start)
        }
        XCTAssertEqual(throttle.trackedSources, 100)
        // Every tracked source failed just now: none can be dropped.
        XCTAssertEqual(throttle.admit("10.0.1.1", now: start + 2_000), .admitted(clean: false))
        throttle.settle("10.0.1.1", .succeeded, now: start + 2_000)
        XCTAssertEqual(throttle.admit("10.0.1.1", now: start + 2_000), .admitted(clean: false), "untracked: never clean")
        XCTAssertEqual(throttle.trackedSources, 100)
        // Once their buckets are full and their failures old, they make room.
        XCTAssertEqual(throttle.admit("10.0.1.1", now: start + 3_600_000), .admitted(clean: false))
        XCTAssertEqual(throttle.trackedSources, 1)
        throttle.settle("10.0.1.1", .succeeded, now: start + 3_600_000)
        XCTAssertEqual(throttle.admit("10.0.1.1", now: start + 3_600_000), .admitted(clean: true), "tracked, so it can become clean")
    }

    func testWithRefusalOffSourcesAreStillTrackedForTheLanes() {
        let throttle = SourceThrottle(policy: SourceThrottlePolicy(burst: 0, perMinute: 0, quietSeconds: 600))
        for _ in 0..<50 {
            XCTAssertNotEqual(throttle.admit("203.0.113.1", now: start), .refused(retryAfterSeconds: 0))
            throttle.settle("203.0.113.1", .failed, now: start)
        }
        if case .refused = throttle.admit("203.0.113.1", now: start) { XCTFail("refusal is off") }
        XCTAssertEqual(throttle.admit("203.0.113.1", now: start), .admitted(clean: false), "but the source is not quiet")
    }
}
