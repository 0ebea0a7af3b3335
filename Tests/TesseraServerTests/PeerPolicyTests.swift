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

    /// A peer's groups are the ones it connected with (`SO_PEERGROUPS`), not the ones its pid
    /// holds when the daemon looks: a child connects as a member of group 4242, drops the group,
    /// and only then is its connection accepted and read. Reading `/proc/PID/status` at accept,
    /// as before, saw the group gone (or, had the pid been reused, another process's groups).
    func testPeerGroupsAreTheOnesItConnectedWith() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to give the child a group") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("peer-groups-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("s").path
        let listener = try SocketPath.makeListener(path, backlog: 4)
        defer { close(listener) }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        child.arguments = [
            "-c",
            """
            import os, socket, sys
            os.setgroups([4242])
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(sys.argv[1])
            os.setgroups([])
            print(open("/proc/self/status").read().split("Groups:")[1].split("\\n")[0].strip() or "none", flush=True)
            sys.stdin.read()
            """,
            path,
        ]
        let output = Pipe()
        let input = Pipe()
        child.standardOutput = output
        child.standardInput = input
        try child.run()
        defer {
            try? input.fileHandleForWriting.close()
            child.waitUntilExit()
        }
        // The child has connected and dropped the group once it reports its groups.
        let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        XCTAssertEqual(line.trimmingCharacters(in: .whitespacesAndNewlines), "none", "the child no longer holds the group")
        let connection = accept(listener, nil, nil)
        XCTAssertGreaterThanOrEqual(connection, 0)
        defer { close(connection) }
        let peer = try XCTUnwrap(PeerCredentials.read(from: connection))
        XCTAssertEqual(peer.pid, child.processIdentifier)
        XCTAssertTrue(peer.groups.contains(4242), "the group it connected with: \(peer.groups)")
        XCTAssertFalse(PeerCredentials.supplementaryGroups(of: child.processIdentifier).contains(4242), "what /proc shows now")
    }
}
