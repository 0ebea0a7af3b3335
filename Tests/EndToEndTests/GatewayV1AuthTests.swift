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
        XCTAssertTrue(user["title"] is NSNull, "not held")
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
        let settings = try XCTUnwrap(after["settings"] as? [[String: Any]])
        XCTAssertEqual(settings.map { $0["name"] as? String }, ["lang", "quote", "theme"])
        XCTAssertEqual(
            settings.first { $0["name"] as? String == "quote" }?["value"] as? String, "say \"hi\" \\ done é ✓",
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

    /// The seed's user object, field by field: every name present, of its type, nothing else.
    static let userFields: [String: JSONKind] = [
        "id": .string, "userName": .string, "email": .string, "phoneNumber": .string, "title": .orNull(.string), "firstName": .string,
        "lastName": .string, "department": .orNull(.string), "birthDate": .orNull(.date), "createdAt": .date, "updatedAt": .date,
        "lastDismissMessages": .orNull(.date), "lastLogIn": .date, "rank": .orNull(.number), "image": .string, "address": .orNull(.string),
        "postalCode": .orNull(.string), "region": .orNull(.string), "city": .orNull(.string), "country": .orNull(.string),
        "countryCode": .orNull(.string), "mobile": .orNull(.string), "notes": .orNull(.string), "customerId": .orNull(.string),
        "roles": .strings, "apiKeys": .array, "settings": .array,
    ]
    /// The seed's profile fields Tessera keeps as attributes, each with a value of its type.
    nonisolated(unsafe) static let attributeValues: [String: Any] = [
        "title": "Dr", "department": "Mathematics", "birthDate": "1815-12-10T00:00:00.000Z", "lastDismissMessages": "2026-11-30T08:15:00.250Z",
        "rank": 3, "address": "12 St James's Square", "postalCode": "SW1Y 4JH", "region": "Greater London", "city": "London",
        "country": "United Kingdom", "countryCode": "GB", "mobile": "+447700900123", "notes": "Analytical Engine, note G",
        "customerId": "C-1843",
    ]
    static let apiKeyFields: [String: JSONKind] = [
        "id": .string, "name": .string, "key": .string, "clientSecret": .string, "createdDate": .date, "expireDate": .orNull(.date),
        "ownerId": .string, "revoked": .bool, "permissions": .strings, "description": .null,
    ]
    static let settingFields: [String: JSONKind] = [
        "id": .null, "category": .null, "group": .null, "name": .string, "value": .string, "type": .string,
        "description": .null, "readOnly": .bool, "userId": .string,
    ]

    func testTheUserHasEverySeedFieldOfItsType() async throws {
        let token = try await token()
        let key = try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "apikey", "create", "alice", "ci", "--json"])
        XCTAssertEqual(key.status, 0, key.stderr)
        _ = try await gateway.send(
            .POST, "/v1/auth/user", json: ["user": ["settings": [["name": "theme", "value": "dark"]]]],
            headers: [("Authorization", "Bearer \(token)")])
        let reply = try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(reply.status, 200, reply.text)
        let user = try XCTUnwrap(reply.json["user"] as? [String: Any])
        assertShape(user, Self.userFields, "user")
        XCTAssertEqual(user["id"] as? String, "1", "the id is a string")
        let keys = try XCTUnwrap(user["apiKeys"] as? [[String: Any]])
        XCTAssertEqual(keys.count, 1)
        for key in keys { assertShape(key, Self.apiKeyFields, "apiKeys[]") }
        XCTAssertEqual(keys.first?["ownerId"] as? String, "1")
        XCTAssertEqual(keys.first?["revoked"] as? Bool, false)
        let settings = try XCTUnwrap(user["settings"] as? [[String: Any]])
        XCTAssertEqual(settings.count, 1)
        for setting in settings { assertShape(setting, Self.settingFields, "settings[]") }
        for field in Self.attributeValues.keys { XCTAssertTrue(user[field] is NSNull, "\(field) is null until set") }

        // Every one of the seed's other fields set: each is of its type, not null.
        let set = try await gateway.send(
            .POST, "/v1/auth/user", json: ["user": Self.attributeValues], headers: [("Authorization", "Bearer \(token)")])
        XCTAssertEqual(set.status, 200, set.text)
        let read = try await gateway.send(.GET, "/v1/auth/user", headers: [("Authorization", "Bearer \(token)")])
        let full = try XCTUnwrap(read.json["user"] as? [String: Any])
        assertShape(full, Self.userFields, "user with every field set")
        for field in Self.attributeValues.keys { XCTAssertFalse(full[field] is NSNull, "\(field) is set") }
    }

    /// Every writable field sent in the seed's `{"user": {...}}` is stored and returned; a field
    /// Tessera does not hold, a server-set one or an unknown one is refused with its name.
    func testEveryWritableFieldRoundTripsAndNothingIsDroppedSilently() async throws {
        let token = try await token()
        let bearer = [("Authorization", "Bearer \(token)")]
        let change: [String: Any] = [
            "user": [
                "email": "ada@example.com", "phoneNumber": "+15550001111", "firstName": "Ada", "lastName": "King Lovelace",
                "image": "https://example.com/ada.png", "settings": [["name": "lang", "value": "en"], ["key": "tz", "value": "UTC"]],
            ].merging(Self.attributeValues) { $1 }
        ]
        let updated = try await gateway.send(.POST, "/v1/auth/user", json: change, headers: bearer)
        XCTAssertEqual(updated.status, 200, updated.text)
        let read = try await gateway.send(.GET, "/v1/auth/user", headers: bearer)
        for reply in [updated, read] {
            let user = try XCTUnwrap(reply.json["user"] as? [String: Any])
            XCTAssertEqual(user["email"] as? String, "ada@example.com")
            XCTAssertEqual(user["phoneNumber"] as? String, "+15550001111")
            XCTAssertEqual(user["firstName"] as? String, "Ada")
            XCTAssertEqual(user["lastName"] as? String, "King Lovelace")
            XCTAssertEqual(user["image"] as? String, "https://example.com/ada.png")
            let settings = (user["settings"] as? [[String: Any]])?.map { "\($0["name"]!)=\($0["value"]!)" }
            XCTAssertEqual(settings, ["lang=en", "tz=UTC"])
            for (field, value) in Self.attributeValues {
                XCTAssertEqual(user[field] as? NSObject, value as? NSObject, "\(field) as sent")
            }
        }
        // null removes one; the others stay; a fractional rank stays fractional.
        let cleared = try await gateway.send(.POST, "/v1/auth/user", json: ["user": ["title": NSNull(), "rank": 2.5]], headers: bearer)
        XCTAssertEqual(cleared.status, 200, cleared.text)
        let clearedUser = try XCTUnwrap(cleared.json["user"] as? [String: Any])
        XCTAssertTrue(clearedUser["title"] is NSNull, cleared.text)
        XCTAssertEqual(clearedUser["rank"] as? Double, 2.5)
        XCTAssertEqual(clearedUser["city"] as? String, "London")
        // The same values through the daemon, as the user's attributes.
        let shown = try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "user", "show", "alice", "--json"])
        let attributes = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])?["attributes"] as? [String: Any])
        XCTAssertEqual(attributes["birthDate"] as? [String: String], ["date": "1815-12-10T00:00:00.000Z"])
        XCTAssertNil(attributes["title"])
        // One half of the name sent: the other stays.
        let first = try await gateway.send(.POST, "/v1/auth/user", json: ["user": ["firstName": "Augusta"]], headers: bearer)
        XCTAssertEqual((first.json["user"] as? [String: Any])?["firstName"] as? String, "Augusta", first.text)
        XCTAssertEqual((first.json["user"] as? [String: Any])?["lastName"] as? String, "King Lovelace", first.text)

        let refused: [([String: Any], String)] = [
            (["user": ["firstName": "Ada", "title": 7]], "title must be a string"),
            (["user": ["rank": "high"]], "rank must be a number"),
            (["user": ["birthDate": "10 December 1815"]], "birthDate must be an RFC 3339 date-time"),
            (["user": ["birthDate": "10000-01-01T00:00:00Z"]], "birthDate"),
            (["user": ["notes": String(repeating: "n", count: 1025)]], "notes cannot be stored: a string attribute is at most 1024 bytes"),
            (["user": ["nickname": "ada"]], "nickname"),
            (["user": ["id": "7"]], "id"),
            (["user": ["firstName": "Ada Augusta"]], "firstName"),
            (["user": ["email": 7]], "email"),
            (["user": ["settings": [["name": "a", "value": "1", "readOnly": true]]]], "readOnly"),
            (["user": ["settings": [["name": "a", "value": "1"], ["name": "a", "value": "2"]]]], "twice"),
            (["user": "Ada"], "user"),
        ]
        for (body, named) in refused {
            let reply = try await gateway.send(.POST, "/v1/auth/user", json: body, headers: bearer)
            assertError(reply, 400)
            XCTAssertTrue((reply.json["message"] as? String ?? "").contains(named), "\(body): \(reply.text)")
        }
        let after = try await gateway.send(.GET, "/v1/auth/user", headers: bearer)
        XCTAssertEqual((after.json["user"] as? [String: Any])?["firstName"] as? String, "Augusta", "a refused body changed nothing")
    }
}
