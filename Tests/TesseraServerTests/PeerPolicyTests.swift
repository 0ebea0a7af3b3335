import Foundation
import TesseraProtocol
import XCTest

@testable import TesseraServer

final class PeerPolicyTests: XCTestCase {
    private func peer(uid: UInt32, gid: UInt32, groups: Set<UInt32> = []) -> PeerCredentials {
        PeerCredentials(uid: uid, gid: gid, pid: 1, groups: groups)
    }

    func testByDefaultRootAndTheDaemonAreAdminAndTheSocketsGroupIsApplication() {
        var policy = PeerPolicy()
        policy.daemonUID = 1000
        policy.socketGID = 1000
        XCTAssertEqual(policy.classify(peer(uid: 0, gid: 0)), .admin)
        XCTAssertEqual(policy.classify(peer(uid: 1000, gid: 5)), .admin)
        XCTAssertEqual(policy.classify(peer(uid: 33, gid: 33, groups: [1000])), .application, "a supplementary member of the group")
        XCTAssertEqual(policy.classify(peer(uid: 33, gid: 1000)), .application)
        XCTAssertEqual(policy.classify(peer(uid: 65534, gid: 65534)), .refused)
    }

    func testConfiguredListsReplaceTheSocketGroupDefault() {
        var policy = PeerPolicy()
        policy.daemonUID = 1000
        policy.socketGID = 1000
        policy.applicationUIDs = [33]
        policy.adminGIDs = [4]
        XCTAssertEqual(policy.classify(peer(uid: 33, gid: 33)), .application)
        XCTAssertEqual(policy.classify(peer(uid: 34, gid: 1000)), .refused, "the socket's group no longer makes an application")
        XCTAssertEqual(policy.classify(peer(uid: 35, gid: 35, groups: [4])), .admin)
    }

    func testApplicationsMayUseOnlyTheWebOperations() {
        let allowed = Set(Opcode.allCases.filter { PeerClass.application.permits($0) })
        XCTAssertEqual(allowed, Set(Operations.all.filter { $0.access != .admin }.map(\.opcode)))
        XCTAssertFalse(PeerClass.application.permits(.setPassword))
        XCTAssertTrue(Opcode.allCases.allSatisfy { PeerClass.admin.permits($0) })
        XCTAssertFalse(Opcode.allCases.contains { PeerClass.refused.permits($0) })
    }

    func testSupplementaryGroupsAreReadFromProc() {
        var groups = [gid_t](repeating: 0, count: 256)
        let count = Int(getgroups(Int32(groups.count), &groups))
        XCTAssertGreaterThanOrEqual(count, 0)
        XCTAssertEqual(PeerCredentials.supplementaryGroups(of: getpid()), Set(groups.prefix(count).map { UInt32($0) }))
    }
}
