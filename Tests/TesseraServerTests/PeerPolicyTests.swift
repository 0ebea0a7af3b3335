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
        XCTAssertEqual(allowed, PeerPolicy.applicationOperations)
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

/// `Protocol/PROTOCOL.md`'s table of application operations is ``PeerPolicy/applicationOperations``.
final class PeerPolicySpecificationTests: XCTestCase {
    func testTheSpecsApplicationTableIsThePolicy() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/PROTOCOL.md")
        let spec = try String(contentsOf: url, encoding: .utf8)
        let lines = spec.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let caption = try XCTUnwrap(lines.firstIndex(of: "**Application operations**"))
        let rows = lines[(caption + 1)...].drop(while: { $0.isEmpty }).prefix(while: { $0.hasPrefix("|") }).dropFirst(2)
        var documented: [UInt8: String] = [:]
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let opcode = try XCTUnwrap(UInt8(cells[0].dropFirst(2), radix: 16), row)
            documented[opcode] = cells[2]
        }
        let declared = Dictionary(
            uniqueKeysWithValues: Opcode.allCases.map { opcode in
                let answer =
                    !PeerClass.application.permits(opcode) ? "no" : PeerPolicy.selfServiceOperations.contains(opcode) ? "self" : "yes"
                return (opcode.rawValue, answer)
            })
        XCTAssertEqual(documented, declared)
    }
}
