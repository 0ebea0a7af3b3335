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
}
