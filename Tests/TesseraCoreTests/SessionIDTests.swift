import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class SessionIDTests: XCTestCase {
    func testIdsSortByCreationTimeAndStayUnique() {
        let earlier = SessionID.random(now: 1_767_225_600_000)
        let later = SessionID.random(now: 1_767_225_600_001)
        XCTAssertLessThan(earlier.high, later.high, "time first: newer ids sort after older ones")
        let sameMillisecond = (0..<1000).map { _ in SessionID.random(now: 1_767_225_600_000) }
        XCTAssertEqual(Set(sameMillisecond).count, 1000, "80 random bits keep ids made in one millisecond apart")
        XCTAssertEqual(earlier.high >> 16, 1_767_225_600_000)
    }
}
