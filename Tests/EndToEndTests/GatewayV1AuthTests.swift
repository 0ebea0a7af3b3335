import Foundation
import NIOHTTP1
import TestSupport
import XCTest

/// The `/v1/auth` API through the real gateway and daemon: login, the user by bearer token and
/// by `x-api-key` with their API keys and settings, the caller's own profile and settings
/// changed, logout, the error shape, and the daemon restarted.
final class GatewayV1AuthTests: XCTestCase {
    var gateway: GatewayProcess!
    override func setUp() async throws {
        gateway = try GatewayProcess(arguments: ["--apis", "v1"])
        try gateway.createUser("alice", extra: ["--email", "alice@example.com", "--name", "Alice Example", "--role", "deploy"])
    }
    override func tearDown() async throws { await gateway?.tearDown() }

    private func assertError(_ reply: GatewayProcess.Reply, _ status: Int, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(reply.status, status, reply.text, file: file, line: line)
        XCTAssertEqual(reply.json["success"] as? Bool, false, file: file, line: line)
        XCTAssertEqual(reply.json["code"] as? Int, status, file: file, line: line)
        XCTAssertNotNil(reply.json["message"] as? String, file: file, line: line)
    }

    private func token() async throws -> String {
        let reply = try await gateway.send(.POST, "/v1/auth/login", json: ["username": "alice", "password": "correct horse"])
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(reply.json["success"] as? Bool, true)
        XCTAssertEqual(reply.json["code"] as? Int, 200)
        XCTAssertEqual(reply.json["expiresIn"] as? Int ?? 0, 24 * 3600, accuracy: 5)
        return try XCTUnwrap(reply.json["token"] as? String)
    }

    func testTheUserByBearerAndByAPIKeyThenAnUpdateThenLogout() async throws {
        let token = try await token()
        let key = try runCommand(
            DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "apikey", "create", "alice", "ci", "--permission", "deploy", "--json"])
        XCTAssertEqual(key.status, 0, key.stderr)
        let apiKey = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(key.stdout.utf8)) as? [String: Any])?["key"] as? String)

        let byBearer = try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(byBearer.status, 200, byBearer.text)
        for header in ["bearer \(token)", "BEARER  \(token) "] {
            let reply = try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", header)])
            XCTAssertEqual(reply.status, 200, header)
        }
        for header in ["Bearer", "Bearer ", "Bearer\(token)", "Basic \(token)", "Bearer: \(token)"] {
            assertError(try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", header)]), 401)
        }
        let user = try XCTUnwrap(byBearer.json["user"] as? [String: Any])
        XCTAssertEqual(user["userName"] as? String, "alice")
        XCTAssertEqual(user["firstName"] as? String, "Alice")
        XCTAssertEqual(user["lastName"] as? String, "Example")
        XCTAssertEqual(user["title"] as? String, "")
        XCTAssertEqual(user["phoneNumber"] as? String, "")
        XCTAssertEqual(user["roles"] as? [String], ["deploy"])
        let keys = try XCTUnwrap(user["apiKeys"] as? [[String: Any]])
        XCTAssertEqual(keys.count, 1)
        XCTAssertEqual(keys.first?["name"] as? String, "ci")
        XCTAssertEqual(keys.first?["clientSecret"] as? String, "", "never shown again")
        XCTAssertEqual(keys.first?["permissions"] as? [String], ["deploy"])
        XCTAssertFalse(byBearer.text.contains(apiKey), "the key itself is never listed")

        let byKey = try await gateway.send(.GET, "/v1/auth/user", headers: [("x-api-key", apiKey)])
        XCTAssertEqual(byKey.status, 200, byKey.text)
        XCTAssertEqual((byKey.json["user"] as? [String: Any])?["userName"] as? String, "alice")
        assertError(try await gateway.send(.POST, "/v1/auth/user", json: ["firstName": "Mallory"], headers: [("x-api-key", apiKey)]), 403)

        let update: [String: Any] = [
            "firstName": "Alicia", "lastName": "Example", "phoneNumber": "+15557654321",
            "settings": [
                ["key": "theme", "value": "dark"], ["key": "lang", "value": "fr"], ["key": "quote", "value": "say \"hi\" \\ done é ✓"],
            ],
        ]
        let updated = try await gateway.send(.POST, "/v1/auth/user", json: update, headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(updated.status, 200, updated.text)
        let after = try XCTUnwrap(updated.json["user"] as? [String: Any])
        XCTAssertEqual(after["firstName"] as? String, "Alicia")
        XCTAssertEqual(after["phoneNumber"] as? String, "+15557654321")
        XCTAssertEqual((after["settings"] as? [[String: String]])?.map { $0["key"]! }, ["lang", "quote", "theme"])
        XCTAssertEqual(
            (after["settings"] as? [[String: String]])?.first { $0["key"] == "quote" }?["value"], "say \"hi\" \\ done é ✓",
            "quotes and a backslash escaped, the rest as UTF-8: \(updated.text)")
        let promote = try await gateway.send(.POST, "/v1/auth/user", json: ["email": "not-an-email"], headers: [("Authorization", "Bearer \(token)")])
        assertError(promote, 400)

        let logout = try await gateway.send(.POST, "/v1/auth/logout", headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(logout.status, 200, logout.text)
        assertError(try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", "Bearer \(token)")]), 401)
        let stillKey = try await gateway.send(.GET, "/v1/auth/user", headers: [("x-api-key", apiKey)])
        XCTAssertEqual(stillKey.status, 200, "the key outlives the session")
    }

    func testErrorsAndTheDaemonRestarted() async throws {
        assertError(try await gateway.send(.POST, "/v1/auth/login", json: ["username": "alice", "password": "wrong"]), 401)
        assertError(try await gateway.send(.POST, "/v1/auth/login", json: ["password": "x"]), 400)
        assertError(try await gateway.send(.GET, "/v1/auth/user"), 401)
        assertError(try await gateway.send(.GET, "/v1/auth/user", headers: [("x-api-key", "tsk_nonsense")]), 401)
        let token = try await token()
        gateway.daemon.stop()
        assertError(try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", "Bearer \(token)")]), 503)
        try gateway.daemon.start()
        let back = try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(back.status, 200, "the session survived the restart: \(back.text)")
    }
}
