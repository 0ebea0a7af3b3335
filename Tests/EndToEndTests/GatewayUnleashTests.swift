import Foundation
import NIOHTTP1
import XCTest

/// Unleash's `POST /auth/simple/login` through the real gateway and daemon: the user object,
/// the session cookie and its attributes, the cookie on a follow-up request, logout, each
/// error's shape, and the daemon restarted mid-test.
final class GatewayUnleashTests: XCTestCase {
    var gateway: GatewayProcess!
    override func setUp() async throws {
        gateway = try GatewayProcess(arguments: ["--apis", "unleash"])
        try gateway.createUser("alice", extra: ["--email", "alice@example.com", "--name", "Alice Example"])
    }
    override func tearDown() async throws { await gateway?.tearDown() }

    private func assertAuthenticationRequired(_ reply: GatewayProcess.Reply, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(reply.status, 401, reply.text, file: file, line: line)
        XCTAssertEqual(reply.json["name"] as? String, "AuthenticationRequired", file: file, line: line)
        XCTAssertNotNil(UUID(uuidString: reply.json["id"] as? String ?? ""), "a fresh UUID: \(reply.text)", file: file, line: line)
        XCTAssertTrue((reply.json["message"] as? String ?? "").contains("/auth/simple/login"), reply.text, file: file, line: line)
    }

    func testLoginSetsASessionCookieThatLaterRequestsUseUntilLogout() async throws {
        let login = try await gateway.send(.POST, "/auth/simple/login", json: ["username": "alice", "password": "correct horse"])
        XCTAssertEqual(login.status, 200, login.text)
        let user = login.json
        XCTAssertEqual(user["id"] as? Int, 1)
        XCTAssertEqual(user["username"] as? String, "alice")
        XCTAssertEqual(user["email"] as? String, "alice@example.com")
        XCTAssertEqual(user["name"] as? String, "Alice Example")
        XCTAssertEqual(user["accountType"] as? String, "User")
        XCTAssertEqual(user["rootRole"] as? Int, 3)
        XCTAssertEqual(user["loginAttempts"] as? Int, 0)
        XCTAssertEqual(user["emailSent"] as? Bool, false)
        XCTAssertEqual(user["inviteLink"] as? String, "")
        XCTAssertEqual((user["permissions"] as? [Any])?.count, 0)
        XCTAssertTrue(user["scimId"] is NSNull, login.text)
        XCTAssertNotNil(ISO8601DateFormatter.withFractionalSeconds.date(from: user["createdAt"] as? String ?? ""), login.text)
        XCTAssertNotNil(ISO8601DateFormatter.withFractionalSeconds.date(from: user["seenAt"] as? String ?? ""), login.text)
        assertShape(user, Self.userSchema, "login")
        XCTAssertNotNil(login.header("x-trace-id"))

        let cookie = try XCTUnwrap(login.header("set-cookie"))
        XCTAssertTrue(cookie.hasPrefix("unleash-session="), cookie)
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age="] { XCTAssertTrue(cookie.contains(attribute), cookie) }
        XCTAssertTrue(cookie.contains("; Secure"), "Secure unless --no-cookie-secure: \(cookie)")
        let session = String(cookie.split(separator: ";")[0])

        let me = try await gateway.send(.GET, "/api/admin/user", headers: [("cookie", session)])
        XCTAssertEqual(me.status, 200, me.text)
        XCTAssertEqual((me.json["user"] as? [String: Any])?["username"] as? String, "alice")
        // The session cookie among others, as a browser sends them: found by its exact name.
        let token = String(session.dropFirst("unleash-session=".count))
        for header in [
            "theme=dark; unleash-session=\(token); lang=en", "unleash-session-old=x;unleash-session=\(token)",
            "a=1;  \tunleash-session=\(token)",
        ] {
            let among = try await gateway.send(.GET, "/api/admin/user", headers: [("cookie", header)])
            XCTAssertEqual(among.status, 200, "\(header): \(among.text)")
        }
        for header in ["unleash-session-old=\(token)", "xunleash-session=\(token)", "unleash-session", "theme=dark"] {
            assertAuthenticationRequired(try await gateway.send(.GET, "/api/admin/user", headers: [("cookie", header)]))
        }
        // The bearer scheme in any case, by the Authorization header of the same API.
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let byHeader = try await gateway.send(.GET, "/api/admin/user", headers: [("authorization", "\(scheme) \(token)")])
            XCTAssertEqual(byHeader.status, 200, "\(scheme): \(byHeader.text)")
        }

        let logout = try await gateway.send(.POST, "/logout", headers: [("cookie", session)])
        XCTAssertEqual(logout.status, 302)
        XCTAssertTrue(logout.header("set-cookie")?.contains("Max-Age=0") ?? false, "the cookie is cleared")
        assertAuthenticationRequired(try await gateway.send(.GET, "/api/admin/user", headers: [("cookie", session)]))
        assertAuthenticationRequired(try await gateway.send(.GET, "/api/admin/user"))
    }

    func testEachErrorHasUnleashsShape() async throws {
        assertAuthenticationRequired(try await gateway.send(.POST, "/auth/simple/login", json: ["username": "alice", "password": "wrong"]))
        assertAuthenticationRequired(try await gateway.send(.POST, "/auth/simple/login", json: ["username": "nobody", "password": "wrong"]))
        let missing = try await gateway.send(.POST, "/auth/simple/login", json: ["username": "alice"])
        XCTAssertEqual(missing.status, 400)
        XCTAssertEqual(missing.json["name"] as? String, "ValidationError")
        let notJSON = try await gateway.send(.POST, "/auth/simple/login", json: "username=alice")
        XCTAssertEqual(notJSON.status, 400)
    }

    /// Login CSRF: a cross-site form can post `text/plain` without asking the browser's CORS
    /// rules, and a JSON body so sent would log the visitor into the attacker's account.
    func testALoginNotDeclaredJSONOrFromAnotherSiteSetsNoCookie() async throws {
        let credentials = ["username": "alice", "password": "correct horse"]
        for contentType in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            let reply = try await gateway.send(.POST, "/auth/simple/login", json: credentials, contentType: contentType)
            XCTAssertEqual(reply.status, 400, "\(contentType): \(reply.text)")
            XCTAssertEqual(reply.json["name"] as? String, "ValidationError")
            XCTAssertNil(reply.header("set-cookie"), contentType)
        }
        let charset = try await gateway.send(.POST, "/auth/simple/login", json: credentials, contentType: "Application/JSON; charset=utf-8")
        XCTAssertEqual(charset.status, 200, charset.text)

        let crossSite = try await gateway.send(.POST, "/auth/simple/login", json: credentials, headers: [("Origin", "https://evil.example")])
        XCTAssertEqual(crossSite.status, 403, crossSite.text)
        XCTAssertEqual(crossSite.json["name"] as? String, "ForbiddenError")
        XCTAssertNil(crossSite.header("set-cookie"))
        let opaque = try await gateway.send(.POST, "/auth/simple/login", json: credentials, headers: [("Origin", "null")])
        XCTAssertEqual(opaque.status, 403, "a sandboxed frame's origin")
        let sameSite = try await gateway.send(
            .POST, "/auth/simple/login", json: credentials, headers: [("Origin", "http://127.0.0.1:\(gateway.port)")])
        XCTAssertEqual(sameSite.status, 200, sameSite.text)
        XCTAssertNotNil(sameSite.header("set-cookie"))

        await gateway.tearDown()
        gateway = try GatewayProcess(arguments: ["--apis", "unleash", "--allowed-origin", "https://App.Example"])
        try gateway.createUser("alice")
        let allowed = try await gateway.send(.POST, "/auth/simple/login", json: credentials, headers: [("Origin", "https://app.example")])
        XCTAssertEqual(allowed.status, 200, allowed.text)
        let other = try await gateway.send(.POST, "/auth/simple/login", json: credentials, headers: [("Origin", "https://other.example")])
        XCTAssertEqual(other.status, 403, other.text)
    }

    func testTheDaemonGoingAwayCostsA503AndItsReturnIsServed() async throws {
        gateway.daemon.stop()
        let down = try await gateway.send(.POST, "/auth/simple/login", json: ["username": "alice", "password": "correct horse"])
        XCTAssertEqual(down.status, 503, down.text)
        XCTAssertEqual(down.json["name"] as? String, "ServiceUnavailableError")
        XCTAssertNotNil(UUID(uuidString: down.json["id"] as? String ?? ""))
        try gateway.daemon.start()
        let back = try await gateway.send(.POST, "/auth/simple/login", json: ["username": "alice", "password": "correct horse"])
        XCTAssertEqual(back.status, 200, back.text)
    }

    func testNoCookieSecureLeavesTheCookieForPlainHTTP() async throws {
        await gateway.tearDown()
        gateway = try GatewayProcess(arguments: ["--apis", "unleash", "--no-cookie-secure"])
        try gateway.createUser("alice")
        let login = try await gateway.send(.POST, "/auth/simple/login", json: ["username": "alice", "password": "correct horse"])
        let cookie = try XCTUnwrap(login.header("set-cookie"))
        XCTAssertTrue(cookie.hasPrefix("unleash-session="), cookie)
        XCTAssertFalse(cookie.contains("Secure"), cookie)
        if GatewayProcess.runsAsApplication {
            XCTAssertTrue(gateway.log.contains("connected to tesserad as an application peer"), gateway.log)
        }
    }

    /// Unleash's `userSchema` (its OpenAPI document: `additionalProperties: false`), the login's
    /// reply, and its `meSchema` around it for `GET /api/admin/user`: every field, of its type,
    /// nothing else.
    static let userSchema: [String: JSONKind] = [
        "id": .integer, "isAPI": .bool, "name": .orNull(.string), "email": .string, "username": .orNull(.string), "imageUrl": .string,
        "inviteLink": .string, "loginAttempts": .integer, "emailSent": .bool, "rootRole": .integer, "seenAt": .orNull(.date),
        "createdAt": .date, "accountType": .string, "permissions": .strings, "scimId": .orNull(.string), "activeSessions": .orNull(.integer),
    ]

    func testEveryResponseHasTheDocumentsFieldsOfTheirTypes() async throws {
        let login = try await gateway.send(.POST, "/auth/simple/login", json: ["username": "alice", "password": "correct horse"])
        assertShape(login.json, Self.userSchema, "login")
        let cookie = try XCTUnwrap(login.header("set-cookie")?.split(separator: ";").first.map(String.init))
        let me = try await gateway.send(.GET, "/api/admin/user", headers: [("Cookie", cookie)])
        assertShape(me.json, ["user": .object, "permissions": .array, "feedback": .array, "splash": .object], "GET /api/admin/user")
        assertShape(try XCTUnwrap(me.json["user"] as? [String: Any]), Self.userSchema, "GET /api/admin/user: user")
        let refused = try await gateway.send(.GET, "/api/admin/user")
        assertShape(refused.json, ["id": .string, "name": .string, "message": .string], "an error")
    }

}

extension ISO8601DateFormatter {
    /// RFC 3339 with milliseconds, as the gateway writes dates.
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
