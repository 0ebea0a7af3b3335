import Foundation
import NIOHTTP1
import XCTest

/// Elastic Cloud Enterprise's `POST /api/v1/users/auth/_login` through the real gateway and
/// daemon: the token and its expiry, the 302 with `login_state`, the bearer on a follow-up
/// request, logout, `root.unauthenticated` with its header, and
/// `authc.authentication_cluster_error` (502) while the daemon is away.
final class GatewayElasticCloudTests: XCTestCase {
    var gateway: GatewayProcess!
    override func setUp() async throws {
        gateway = try GatewayProcess(arguments: ["--apis", "ece"])
        try gateway.createUser("alice", extra: ["--email", "alice@example.com", "--name", "Alice"])
    }
    override func tearDown() async throws { await gateway?.tearDown() }

    private func login(_ body: Any) async throws -> GatewayProcess.Reply {
        try await gateway.send(.POST, "/api/v1/users/auth/_login", json: body)
    }

    private func assertError(
        _ reply: GatewayProcess.Reply, _ status: Int, _ code: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(reply.status, status, reply.text, file: file, line: line)
        XCTAssertEqual(reply.header("x-cloud-error-codes"), code, file: file, line: line)
        let errors = reply.json["errors"] as? [[String: Any]]
        XCTAssertEqual(errors?.count, 1, reply.text, file: file, line: line)
        XCTAssertEqual(errors?.first?["code"] as? String, code, file: file, line: line)
        XCTAssertNotNil(errors?.first?["message"] as? String, file: file, line: line)
    }

    func testATokenWithItsExpiryThenTheBearerThenLogout() async throws {
        let reply = try await login(["username": "alice", "password": "correct horse"])
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(Set(reply.json.keys), ["token", "session_expiration_time"])
        let token = try XCTUnwrap(reply.json["token"] as? String)
        let expiry = try XCTUnwrap(ISO8601DateFormatter.withFractionalSeconds.date(from: reply.json["session_expiration_time"] as? String ?? ""))
        XCTAssertEqual(expiry.timeIntervalSinceNow, 24 * 3600, accuracy: 60, "the daemon's session lifetime")

        let me = try await gateway.send(.GET, "/api/v1/user", headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(me.status, 200, me.text)
        XCTAssertEqual(me.json["user_name"] as? String, "alice")
        let logout = try await gateway.send(.POST, "/api/v1/users/auth/_logout", headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(logout.status, 200, logout.text)
        assertError(try await gateway.send(.GET, "/api/v1/user", headers: [("Authorization", "Bearer \(token)")]), 401, "root.unauthenticated")
    }

    func testLoginStateRedirectsWithTheTokenInTheFragment() async throws {
        let reply = try await login(["username": "alice", "password": "correct horse", "login_state": ["path": "/deployments"]])
        XCTAssertEqual(reply.status, 302, reply.text)
        let location = try XCTUnwrap(reply.header("location"))
        XCTAssertTrue(location.hasPrefix("/sso/token#"), location)
        let fragment = String(location.dropFirst("/sso/token#".count))
        let parts = fragment.split(separator: "?", maxSplits: 1).map(String.init)
        XCTAssertEqual(parts.count, 2, location)
        XCTAssertTrue(parts[1].hasPrefix("state="), location)
        let state = try XCTUnwrap(parts[1].dropFirst("state=".count).removingPercentEncoding)
        XCTAssertEqual(state, #"{"path":"/deployments"}"#)
        let me = try await gateway.send(.GET, "/api/v1/user", headers: [("Authorization", "Bearer \(parts[0])")])
        XCTAssertEqual(me.status, 200, "the fragment's token is a bearer token: \(me.text)")
    }

    func testErrorsCarryTheirCodeInTheBodyAndTheHeader() async throws {
        assertError(try await login(["username": "alice", "password": "wrong"]), 401, "root.unauthenticated")
        assertError(try await login(["username": "alice"]), 400, "root.invalid_json_request")
        assertError(try await gateway.send(.GET, "/api/v1/user"), 401, "root.unauthenticated")

        gateway.daemon.stop()
        assertError(try await login(["username": "alice", "password": "correct horse"]), 502, "authc.authentication_cluster_error")
        try gateway.daemon.start()
        let back = try await login(["username": "alice", "password": "correct horse"])
        XCTAssertEqual(back.status, 200, back.text)
    }

    /// ECE's login reply, its current user, its logout and its error: every field, of its type,
    /// nothing else.
    func testEveryResponseHasTheDocumentsFieldsOfTheirTypes() async throws {
        let reply = try await login(["username": "alice", "password": "correct horse"])
        assertShape(reply.json, ["token": .string, "session_expiration_time": .date], "login")
        let bearer = [("Authorization", "Bearer \(reply.json["token"] as? String ?? "")")]
        let user = try await gateway.send(.GET, "/api/v1/user", headers: bearer)
        assertShape(
            user.json, ["user_id": .string, "user_name": .string, "full_name": .string, "email": .string, "roles": .strings], "GET /api/v1/user")
        let logout = try await gateway.send(.POST, "/api/v1/users/auth/_logout", headers: bearer)
        assertShape(logout.json, [:], "logout")
        let refused = try await gateway.send(.GET, "/api/v1/user", headers: bearer)
        assertShape(refused.json, ["errors": .array], "an error")
        for error in refused.json["errors"] as? [[String: Any]] ?? [] { assertShape(error, ["code": .string, "message": .string], "errors[]") }
    }
}
