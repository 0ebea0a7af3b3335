import Foundation
import NIOCore
import TesseraClient
import TesseraProtocol
import XCTest

final class ResumeEndToEndTests: XCTestCase {
    func testVerifyCanReturnTheUserInOneRoundTrip() async throws {
        let daemon = DaemonProcess()
        defer { daemon.tearDown() }
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        let created = try await client.createUser(username: "alice", password: Array("correct horse".utf8), email: "a@example.com", roles: ["admin"])
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let plain = try await client.verify(token: login.token)
        XCTAssertNil(plain.user, "the hot path does not pay for the profile unless asked")
        let resumed = try await client.verifyWithUser(token: login.token)
        XCTAssertEqual(resumed.user, login.user)
        XCTAssertEqual(resumed.user?.id, created.id)
        XCTAssertEqual(resumed.roles, ["admin"])
    }

    /// The daemon writes, and the client reads, a user unchanged since its last reply from what
    /// they kept of it (EncodedUsers, RecentUsers): every change to the user is in the very next
    /// verify all the same, and users sharing a slot of both (ids 1 and 257) never answer for
    /// each other.
    func testEveryChangeToAUserIsInTheNextVerifyWithTheUser() async throws {
        let daemon = DaemonProcess()
        defer { daemon.tearDown() }
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        let password = Array("correct horse".utf8)
        let alice = try await client.createUser(username: "alice", password: password, roles: ["admin"])
        XCTAssertEqual(alice.id, 1)
        let login = try await client.login(identifier: "alice", password: password)
        let first = try await client.verifyWithUser(token: login.token)
        let again = try await client.verifyWithUser(token: login.token)
        XCTAssertEqual(first.user, login.user)
        XCTAssertEqual(again.user, first.user)

        var changed = try await client.updateUser(.id(alice.id), ProfileUpdate(displayName: "Ada", attributes: ["title": .string("Dr")]))
        var seen = try await client.verifyWithUser(token: login.token)
        XCTAssertEqual(seen.user, changed)
        XCTAssertEqual(seen.user?.displayName, "Ada")
        XCTAssertEqual(seen.user?.attributes, ["title": .string("Dr")])

        changed = try await client.updateUser(.id(alice.id), ProfileUpdate(roles: ["viewer"], removingAttributes: ["title"]))
        seen = try await client.verifyWithUser(token: login.token)
        XCTAssertEqual(seen.user?.roles, ["viewer"])
        XCTAssertEqual(seen.user?.attributes, [:])
        XCTAssertEqual(seen.user, changed)

        // A login writes the user (its last login): the first session sees the new time.
        let second = try await client.login(identifier: "alice", password: password)
        seen = try await client.verifyWithUser(token: login.token)
        XCTAssertEqual(seen.user?.lastLoginAt, second.user.lastLoginAt)

        // A fresh client, which has kept nothing, reads the same user.
        let fresh = TesseraClient(socketPath: daemon.socketPath)
        let freshSeen = try await fresh.verifyWithUser(token: login.token)
        XCTAssertEqual(freshSeen.user, seen.user)

        // Users 1 and 257 share a slot on both sides (256 and 64 slots).
        for index in 2...257 { _ = try await client.createUser(username: "user\(index)", password: password) }
        let other = try await client.login(identifier: "user257", password: password)
        XCTAssertEqual(other.user.id, 257)
        for _ in 0..<3 {
            let one = try await client.verifyWithUser(token: login.token)
            let two = try await client.verifyWithUser(token: other.token)
            XCTAssertEqual(one.user?.username, "alice")
            XCTAssertEqual(two.user?.username, "user257")
            XCTAssertEqual(two.user, other.user)
        }
        try await client.deleteUser(.id(alice.id))
        do {
            _ = try await client.verifyWithUser(token: login.token)
            XCTFail("a deleted user's session does not verify")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .tokenInvalid)
        }
    }
}
