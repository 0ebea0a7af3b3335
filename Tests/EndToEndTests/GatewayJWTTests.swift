import Foundation
import NIOHTTP1
import TestSupport
import XCTest

/// The JWT API (`POST /auth/login`, `POST /auth/refresh-token`) through the real gateway and
/// daemon: Ed25519 access tokens checked by an independent implementation (joserfc) against
/// the gateway's JWKS, refresh rotation with the replay refused, each `error_code` with the
/// daemon's trace id, and the daemon restarted.
final class GatewayJWTTests: XCTestCase {
    var gateway: GatewayProcess!
    override func setUp() async throws {
        gateway = try GatewayProcess(arguments: ["--apis", "jwt"])
        try gateway.createUser("alice", extra: ["--email", "alice@example.com", "--phone", "+15551234567"])
    }
    override func tearDown() async throws { await gateway?.tearDown() }

    private func assertError(
        _ reply: GatewayProcess.Reply, _ status: Int, _ code: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(reply.status, status, reply.text, file: file, line: line)
        XCTAssertEqual(reply.json["error_code"] as? String, code, reply.text, file: file, line: line)
        XCTAssertEqual(Set(reply.json.keys), ["error_code", "message", "trace_id", "extra_attributes"], file: file, line: line)
        // The daemon's trace id (16 hex digits) when the daemon refused; the gateway's own request
        // id (also its x-trace-id header) when the gateway refused before asking.
        let traceID = reply.json["trace_id"] as? String ?? ""
        XCTAssertTrue(traceID.count == 16 || traceID == reply.header("x-trace-id"), reply.text, file: file, line: line)
    }

    func testLoginByUsernameEmailOrPhoneAndRefreshRotation() async throws {
        var refresh = ""
        for identifier in ["alice", "alice@example.com", "+15551234567"] {
            let reply = try await gateway.send(.POST, "/auth/login", json: ["username": identifier, "password": "correct horse"])
            XCTAssertEqual(reply.status, 200, reply.text)
            XCTAssertEqual(Set(reply.json.keys), ["access_token", "jwt_token", "refresh_token"])
            let jwt = try XCTUnwrap(reply.json["access_token"] as? String)
            XCTAssertEqual(jwt.split(separator: ".").count, 3)
            XCTAssertEqual(reply.json["jwt_token"] as? String, jwt)
            refresh = try XCTUnwrap(reply.json["refresh_token"] as? String)
        }
        let rotated = try await gateway.send(.POST, "/auth/refresh-token", json: ["refresh_token": refresh])
        XCTAssertEqual(rotated.status, 200, rotated.text)
        XCTAssertNotEqual(rotated.json["refresh_token"] as? String, refresh)
        let jwt = try XCTUnwrap(rotated.json["access_token"] as? String)

        // An independent implementation checks the JWT against the gateway's JWKS.
        let python = try IndependentPython.interpreter()
        let jwks = try await gateway.send(.GET, "/.well-known/jwks.json")
        XCTAssertEqual(jwks.status, 200)
        let file = gateway.daemon.directory + "/jwks.json"
        try jwks.body.write(to: URL(fileURLWithPath: file))
        let checked = try runCommand(python, ["-W", "ignore", IndependentPython.script("verify_jwt.py"), file, jwt, ""])
        XCTAssertTrue(checked.stdout.hasPrefix("ok 1 "), "\(checked.stdout) \(checked.stderr)")

        // The refresh token was rotated: its replay (after the grace window) revokes the family;
        // within the grace window the same pair comes back, so either way it is not a new pair.
        let replay = try await gateway.send(.POST, "/auth/refresh-token", json: ["refresh_token": refresh])
        if replay.status == 200 {
            XCTAssertEqual(replay.json["refresh_token"] as? String, rotated.json["refresh_token"] as? String, "the grace window's same pair")
        } else {
            assertError(replay, 401, "token-expired")
        }
    }

    func testEachErrorCodeWithTheDaemonsTraceID() async throws {
        let wrong = try await gateway.send(.POST, "/auth/login", json: ["username": "alice", "password": "wrong"])
        assertError(wrong, 401, "bad-credentials")
        let traceID = try XCTUnwrap(wrong.json["trace_id"] as? String)
        XCTAssertTrue(gateway.daemon.waitForLog { $0.contains(traceID) }, "the trace id leads into the daemon's log")

        let unvalidated = try runCommand(
            DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "user", "add", "bob", "--unvalidated"], input: "correct horse\n")
        XCTAssertEqual(unvalidated.status, 0, unvalidated.stderr)
        let notValidated = try await gateway.send(.POST, "/auth/login", json: ["username": "bob", "password": "correct horse"])
        assertError(notValidated, 401, "account-not-validated")
        XCTAssertEqual((notValidated.json["extra_attributes"] as? [String: Any])?["resend_code"] as? Bool, true)

        let disable = try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "user", "set-state", "alice", "disabled"])
        XCTAssertEqual(disable.status, 0, disable.stderr)
        assertError(try await gateway.send(.POST, "/auth/login", json: ["username": "alice", "password": "correct horse"]), 401, "inactive-account")
        assertError(try await gateway.send(.POST, "/auth/refresh-token", json: ["refresh_token": "not-a-token"]), 401, "token-expired")
        let malformed = try await gateway.send(.POST, "/auth/login", json: ["username": "alice"])
        assertError(malformed, 400, "invalid-request")
        XCTAssertEqual(malformed.json["trace_id"] as? String, malformed.header("x-trace-id"))
        assertError(try await gateway.send(.POST, "/auth/refresh-token", json: "{"), 400, "invalid-request")
        // JSON sent as a type a cross-site form can post is refused (login CSRF).
        let plain = try await gateway.send(.POST, "/auth/login", json: ["username": "alice", "password": "correct horse"], contentType: "text/plain")
        assertError(plain, 400, "invalid-request")
    }

    func testTheDaemonRestartedMidTest() async throws {
        let first = try await gateway.send(.POST, "/auth/login", json: ["username": "alice", "password": "correct horse"])
        let refresh = try XCTUnwrap(first.json["refresh_token"] as? String)
        gateway.daemon.stop()
        let down = try await gateway.send(.POST, "/auth/refresh-token", json: ["refresh_token": refresh])
        XCTAssertEqual(down.status, 503, down.text)
        XCTAssertEqual(down.json["error_code"] as? String, "unavailable")
        try gateway.daemon.start()
        let rotated = try await gateway.send(.POST, "/auth/refresh-token", json: ["refresh_token": refresh])
        XCTAssertEqual(rotated.status, 200, "the refresh token survived the restart: \(rotated.text)")
    }

    /// The JWT API's login and refresh replies and its error: every field, of its type, nothing
    /// else.
    func testEveryResponseHasTheDocumentsFieldsOfTheirTypes() async throws {
        let tokens: [String: JSONKind] = ["access_token": .string, "jwt_token": .string, "refresh_token": .string]
        let login = try await gateway.send(.POST, "/auth/login", json: ["username": "alice", "password": "correct horse"])
        assertShape(login.json, tokens, "login")
        let refreshed = try await gateway.send(.POST, "/auth/refresh-token", json: ["refresh_token": login.json["refresh_token"] as? String ?? ""])
        assertShape(refreshed.json, tokens, "refresh")
        let refused = try await gateway.send(.POST, "/auth/login", json: ["username": "alice", "password": "wrong"])
        assertShape(refused.json, ["error_code": .string, "message": .string, "trace_id": .string, "extra_attributes": .object], "an error")
    }
}
