import Foundation
import NIOCore
import TesseraClient
import TesseraProtocol
import XCTest

/// What the spec promises a client about order (§4 "Ordering") and about the size of replies
/// (§2 "Reply sizes"), checked against the real daemon.
final class ProtocolGuaranteeTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private func started(_ arguments: [String] = []) throws -> TesseraClient {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"] + arguments)
        try daemon.start()
        return TesseraClient(socketPath: daemon.socketPath)
    }

    /// §4: a request sees every write whose reply the client had received before it sent the
    /// request, on the same connection and on another. Repeated, so an answer that overtakes
    /// the durable write (an at-once GET_USER, a batched VERIFY) would be caught.
    func testARequestSeesEveryWriteWhoseReplyCameBeforeItWasSent() async throws {
        let writer = try started()
        let reader = TesseraClient(socketPath: daemon.socketPath)
        let password = Array("correct horse".utf8)
        _ = try await writer.createUser(username: "alice", password: password)
        for round in 0..<20 {
            let name = "Alice \(round)"
            _ = try await writer.updateUser(.username("alice"), ProfileUpdate(displayName: name))
            let sameConnection = try await writer.user(.username("alice")).displayName
            let otherConnection = try await reader.user(.username("alice")).displayName
            XCTAssertEqual(sameConnection, name, "round \(round): GET_USER after UPDATE_USER's reply, same connection")
            XCTAssertEqual(otherConnection, name, "round \(round): GET_USER after UPDATE_USER's reply, another connection")

            let token = try await writer.login(identifier: "alice", password: password).token
            let seen = try await reader.verify(token: token)
            XCTAssertEqual(seen.userID, 1, "round \(round): VERIFY after LOGIN's reply sees the session")
            try await writer.logout(token: token)
            for (client, which) in [(writer, "same"), (reader, "another")] {
                do {
                    _ = try await client.verify(token: token)
                    XCTFail("round \(round): VERIFY after LOGOUT's reply answered ok on the \(which) connection")
                } catch TesseraClientError.server(let error) {
                    XCTAssertEqual(error.code, .tokenInvalid, "round \(round), \(which) connection")
                }
            }
        }
    }

    /// §2: a USER is at most 30,497 bytes as a field, so a LIST_USERS page of one is at most
    /// 23 + 30,497 bytes, and every reply but a listing's at most 65,550. A user with every
    /// field at its maximum meets the bound exactly: a new field, or a looser limit, fails here
    /// until the spec's figure is updated.
    func testTheLargestUserStaysWithinTheStatedReplySizes() async throws {
        // Settings at their maximum do not fit the default request limit (16 KiB): raise it.
        let client = try started(["--max-frame", "65536"])
        let username = String(repeating: "u", count: 64)
        let email =
            String(repeating: "a", count: 64) + "@" + String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 63) + "."
            + String(repeating: "d", count: 57) + ".com"
        XCTAssertEqual(email.utf8.count, 254)
        let roles = (0..<32).map { String(format: "role%02d", $0) + String(repeating: "r", count: 58) }
        var settings: [String: String] = [:]
        for index in 0..<64 {
            settings[String(format: "key%02d", index) + String(repeating: "k", count: 59)] = String(repeating: "v", count: 192)
        }
        XCTAssertEqual(settings.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count }, 16_384)
        var attributes: [String: AttributeValue] = [:]
        for index in 0..<32 {
            attributes[String(format: "attr%02d", index) + String(repeating: "a", count: 58)] = .string(String(repeating: "v", count: 192))
        }
        XCTAssertEqual(attributes.reduce(0) { $0 + $1.key.utf8.count + $1.value.countedBytes }, AttributeLimits.maximumTotalBytes)
        let password = Array("correct horse".utf8)
        _ = try await client.createUser(username: username, password: password)
        _ = try await client.updateUser(.username(username), ProfileUpdate(settings: settings))
        _ = try await client.updateUser(.username(username), ProfileUpdate(attributes: attributes))
        _ = try await client.updateUser(
            .username(username),
            ProfileUpdate(
                email: email, displayName: String(repeating: "n", count: 128), phone: "+123456789012345",
                imageURL: "https://example.com/" + String(repeating: "i", count: 2028), accountType: .service,
                rootRole: String(repeating: "o", count: 64), externalID: String(repeating: "e", count: 256), roles: roles))
        _ = try await client.login(identifier: username, password: password)
        do {
            _ = try await client.login(identifier: username, password: Array("wrong horse".utf8))
        } catch TesseraClientError.server(let error) {
            XCTAssertEqual(error.code, .badCredentials, "a failure, so the failed-login count is set too")
        }

        let connection = try RawConnection(path: daemon.socketPath)
        connection.send(.getUser, requestID: 1, UserSelector.username(username))
        let user = try XCTUnwrap(connection.readFrame())
        XCTAssertEqual(user.status, 0)
        let userReply = Frame.headerLength + user.body.readableBytes
        XCTAssertLessThanOrEqual(userReply, 65_550)

        connection.send(.listUsers, requestID: 2, ListUsersRequest(afterID: 0, limit: 1))
        let page = try XCTUnwrap(connection.readFrame())
        XCTAssertEqual(page.status, 0)
        let pageReply = Frame.headerLength + page.body.readableBytes
        XCTAssertEqual(pageReply, 23 + 30_497, "a page of one user at every maximum is exactly the stated bound")
    }
}
