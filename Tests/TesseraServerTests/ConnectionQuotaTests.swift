import XCTest

@testable import TesseraServer

/// The connection slots and who may take them, without sockets.
final class ConnectionQuotaTests: XCTestCase {
    func testOneUIDCannotTakeTheOthersSlotsNorAnyoneTheAdministratorsReserve() {
        let tracker = ConnectionTracker()
        let quota = ConnectionQuota(maximum: 10, adminReserve: 2, perUID: 5)
        let web: UInt32 = 33
        let other: UInt32 = 1001
        XCTAssertEqual((0..<7).filter { _ in tracker.admit(uid: web, admin: false, quota: quota) }.count, 5, "one uid: its quota")
        XCTAssertEqual((0..<7).filter { _ in tracker.admit(uid: other, admin: false, quota: quota) }.count, 3, "the rest but the reserve")
        XCTAssertFalse(tracker.admit(uid: nil, admin: false, quota: quota), "unreadable credentials: no reserve either")
        XCTAssertEqual((0..<3).filter { _ in tracker.admit(uid: 0, admin: true, quota: quota) }.count, 2, "the administrators' reserve")
        tracker.release(uid: web, admin: false)
        XCTAssertTrue(tracker.admit(uid: other, admin: false, quota: quota), "a non-admin slot came back: another uid takes it")
        XCTAssertFalse(tracker.admit(uid: 0, admin: true, quota: quota), "10 taken")
        tracker.release(uid: 0, admin: true)
        XCTAssertTrue(tracker.admit(uid: 0, admin: true, quota: quota))
        XCTAssertFalse(tracker.admit(uid: web, admin: false, quota: quota))
        for _ in 0..<4 { tracker.release(uid: web, admin: false) }
        XCTAssertTrue(tracker.admit(uid: web, admin: false, quota: quota), "its count went down as it closed")
    }
}
