import Foundation
import NIOHTTP1
import TestSupport
import XCTest

/// Rocket.Chat's `POST /api/v1/login` through the real gateway and daemon: password, resume,
/// a two-factor code (computed with the secret the daemon issued), `X-Auth-Token` and
/// `X-User-Id` on `GET /api/v1/me` and `POST /api/v1/logout`, the error shapes, the daemon
/// restarted.
final class GatewayRocketChatTests: XCTestCase {
    var gateway: GatewayProcess!
    override func setUp() async throws {
        gateway = try GatewayProcess(arguments: ["--apis", "rocketchat"])
        try gateway.createUser("alice", extra: ["--email", "alice@example.com", "--name", "Alice", "--role", "user"])
    }
    override func tearDown() async throws { await gateway?.tearDown() }

    private func login(_ body: [String: Any]) async throws -> GatewayProcess.Reply {
        try await gateway.send(.POST, "/api/v1/login", json: body)
    }

    /// Meteor's clients send `{"digest": SHA-256 hex, "algorithm": "sha-256"}`: a user imported
    /// from Rocket.Chat (bcrypt of the hex, made by PyPI's bcrypt) logs in with it and with the
    /// plain password; a digest of another algorithm is a bad request; a user of Tessera's own
    /// hash is not logged in by a digest.
    func testMeteorsDigestFormLogsInAnImportedUser() async throws {
        let python = try IndependentPython.interpreter()
        let made = try runCommand(
            python,
            [
                "-c",
                "import bcrypt,hashlib; print(bcrypt.hashpw(hashlib.sha256(b'rc pass').hexdigest().encode(), bcrypt.gensalt(4)).decode())",
            ])
        XCTAssertEqual(made.status, 0, made.stderr)
        let hash = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let file = gateway.daemon.directory + "/rc.jsonl"
        try "{\"username\":\"rcuser\",\"password_hash\":\"sha256-hex:\(hash)\",\"external_id\":\"rcUser12345678901\"}\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let imported = try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "import", "users", file])
        XCTAssertEqual(imported.status, 0, imported.stderr)

        let digest = try runCommand(python, ["-c", "import hashlib; print(hashlib.sha256(b'rc pass').hexdigest())"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let wrong = try await login(["user": "rcuser", "password": ["digest": String(repeating: "0", count: 64), "algorithm": "sha-256"]])
        XCTAssertEqual(wrong.status, 401, wrong.text)
        let byDigest = try await login(["user": "rcuser", "password": ["digest": digest.uppercased(), "algorithm": "sha-256"]])
        XCTAssertEqual(byDigest.status, 200, byDigest.text)
        let plain = try await login(["user": "rcuser", "password": "rc pass"])
        XCTAssertEqual(plain.status, 200, "after the re-hash the plain password still logs in: \(plain.text)")
        let again = try await login(["user": "rcuser", "password": ["digest": digest, "algorithm": "sha-256"]])
        XCTAssertEqual(again.status, 200, again.text)
        let md5 = try await login(["user": "rcuser", "password": ["digest": digest, "algorithm": "md5"]])
        XCTAssertEqual(md5.status, 400, md5.text)
        let aliceDigest = try runCommand(python, ["-c", "import hashlib; print(hashlib.sha256(b'correct horse').hexdigest())"])
            .stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let native = try await login(["user": "alice", "password": ["digest": aliceDigest, "algorithm": "sha-256"]])
        XCTAssertEqual(native.status, 401, "Tessera's own hash is of the password, not of its digest: \(native.text)")
    }

    /// A user imported from Rocket.Chat's mongoexport (Tests/Independent/make_rocketchat_users.py)
    /// is not logged out: the apps' old `authToken` with the old `X-User-Id` opens `me` and
    /// `resume`, the personal access token authenticates, the ids answered are Rocket.Chat's,
    /// pyotp's code of the imported secret logs in, a backup code works once and not twice.
    func testAnImportedRocketChatUserKeepsItsTokensItsIdAndItsSecondFactor() async throws {
        let python = try IndependentPython.interpreter()
        let file = gateway.daemon.directory + "/users.export"
        let made = try runCommand(python, [IndependentPython.script("make_rocketchat_users.py"), file, "lines"])
        XCTAssertEqual(made.status, 0, made.stderr)
        let held = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])
        // The export's alice is another user than setUp's.
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "user", "delete", "alice"]).status, 0)
        let imported = try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "import", "rocketchat", file])
        XCTAssertEqual(imported.status, 2, "two documents are malformed: \(imported.stdout) \(imported.stderr)")
        XCTAssertTrue(imported.stdout.contains("with 1 live session(s) and 1 API key(s)"), imported.stdout)
        let rocketID = "aLiCe1234567890ab"

        let authToken = try XCTUnwrap(held["authToken"] as? String)
        let headers = [("X-Auth-Token", authToken), ("X-User-Id", rocketID)]
        let me = try await gateway.send(.GET, "/api/v1/me", headers: headers)
        XCTAssertEqual(me.status, 200, me.text)
        XCTAssertEqual(me.json["_id"] as? String, rocketID)
        XCTAssertEqual(me.json["username"] as? String, "alice")
        let tesseraID = try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath, "user", "show", "alice", "--json"])
        let numeric = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(tesseraID.stdout.utf8)) as? [String: Any])?["id"] as? Int)
        let byTesseraID = try await gateway.send(.GET, "/api/v1/me", headers: [("X-Auth-Token", authToken), ("X-User-Id", String(numeric))])
        XCTAssertEqual(byTesseraID.status, 401, "the id the apps know is Rocket.Chat's")
        let resumed = try await login(["resume": authToken])
        XCTAssertEqual(resumed.status, 200, resumed.text)
        let resumedData = try XCTUnwrap(resumed.json["data"] as? [String: Any])
        XCTAssertEqual(resumedData["authToken"] as? String, authToken)
        XCTAssertEqual(resumedData["userId"] as? String, rocketID)
        let expired = try await login(["resume": try XCTUnwrap(held["expiredToken"] as? String)])
        XCTAssertEqual(expired.status, 401, "a token past Rocket.Chat's 90-day login expiration is not imported")

        let accessToken = try XCTUnwrap(held["personalAccessToken"] as? String)
        let byAccessToken = try await gateway.send(.GET, "/api/v1/me", headers: [("X-Auth-Token", accessToken), ("X-User-Id", rocketID)])
        XCTAssertEqual(byAccessToken.status, 200, byAccessToken.text)

        // The second factor: pyotp's code of the imported secret, then each backup code once.
        let needsCode = try await login(["user": "alice", "password": "alice pass"])
        XCTAssertEqual(needsCode.json["error"] as? String, "totp-required", needsCode.text)
        let uri = "otpauth://totp/import:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DP&algorithm=SHA1&digits=6&period=30"
        let code = try runCommand(python, [IndependentPython.script("totp_codes.py"), uri, String(Int(Date().timeIntervalSince1970))])
        let withCode = try await login([
            "user": "alice", "password": "alice pass", "code": code.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
        ])
        XCTAssertEqual(withCode.status, 200, withCode.text)
        XCTAssertEqual((withCode.json["data"] as? [String: Any])?["userId"] as? String, rocketID)
        let backup = try XCTUnwrap((held["backupCodes"] as? [String])?.first)
        let withBackup = try await login(["user": "alice", "password": "alice pass", "code": backup])
        XCTAssertEqual(withBackup.status, 200, withBackup.text)
        let backupAgain = try await login(["user": "alice", "password": "alice pass", "code": backup])
        XCTAssertEqual(backupAgain.status, 401, backupAgain.text)
        XCTAssertEqual(backupAgain.json["error"] as? String, "totp-invalid", backupAgain.text)

        let logout = try await gateway.send(.POST, "/api/v1/logout", headers: headers)
        XCTAssertEqual(logout.status, 200, logout.text)
        XCTAssertEqual((logout.json["data"] as? [String: Any])?["userId"] as? String, rocketID)
        let after = try await gateway.send(.GET, "/api/v1/me", headers: headers)
        XCTAssertEqual(after.status, 401, "the imported session ended with the logout")
    }

    func testPasswordResumeMeAndLogout() async throws {
        let reply = try await login(["user": "alice@example.com", "password": "correct horse"])
        XCTAssertEqual(reply.status, 200, reply.text)
        XCTAssertEqual(reply.json["status"] as? String, "success")
        let data = try XCTUnwrap(reply.json["data"] as? [String: Any])
        let token = try XCTUnwrap(data["authToken"] as? String)
        let userID = try XCTUnwrap(data["userId"] as? String)
        let me = try XCTUnwrap(data["me"] as? [String: Any])
        XCTAssertEqual(me["_id"] as? String, userID)
        XCTAssertEqual(me["username"] as? String, "alice")
        XCTAssertEqual(me["name"] as? String, "Alice")
        XCTAssertEqual(me["roles"] as? [String], ["user"])
        XCTAssertEqual(me["active"] as? Bool, true)
        XCTAssertEqual((me["emails"] as? [[String: Any]])?.first?["address"] as? String, "alice@example.com")
        XCTAssertEqual(((me["settings"] as? [String: Any])?["preferences"] as? [String: Any])?.count, 0)
        XCTAssertEqual(
            Set(me.keys),
            ["_id", "name", "emails", "status", "statusConnection", "username", "utcOffset", "active", "roles", "settings", "avatarUrl"])

        let resumed = try await login(["resume": token])
        XCTAssertEqual(resumed.status, 200, resumed.text)
        XCTAssertEqual((resumed.json["data"] as? [String: Any])?["authToken"] as? String, token)

        let headers = [("X-Auth-Token", token), ("X-User-Id", userID)]
        let meReply = try await gateway.send(.GET, "/api/v1/me", headers: headers)
        XCTAssertEqual(meReply.status, 200, meReply.text)
        XCTAssertEqual(meReply.json["username"] as? String, "alice")
        XCTAssertEqual(meReply.json["success"] as? Bool, true)
        let otherUser = try await gateway.send(.GET, "/api/v1/me", headers: [("X-Auth-Token", token), ("X-User-Id", "999")])
        XCTAssertEqual(otherUser.status, 401, "the user id must be the token's")

        let logout = try await gateway.send(.POST, "/api/v1/logout", headers: headers)
        XCTAssertEqual(logout.status, 200, logout.text)
        XCTAssertEqual(logout.json["status"] as? String, "success")
        let after = try await gateway.send(.GET, "/api/v1/me", headers: headers)
        XCTAssertEqual(after.status, 401)
        XCTAssertEqual(after.json["status"] as? String, "error")
        XCTAssertEqual(after.json["message"] as? String, "You must be logged in to do this.")
        let staleResume = try await login(["resume": token])
        XCTAssertEqual(staleResume.status, 401)
    }

    func testErrorsAreRocketChatsShape() async throws {
        let wrong = try await login(["user": "alice", "password": "wrong"])
        XCTAssertEqual(wrong.status, 401)
        XCTAssertEqual(wrong.json["status"] as? String, "error")
        XCTAssertEqual(wrong.json["error"] as? String, "Unauthorized")
        XCTAssertEqual(wrong.json["message"] as? String, "Unauthorized")
        let empty = try await login([:])
        XCTAssertEqual(empty.status, 400)
        XCTAssertEqual(empty.json["status"] as? String, "error")

        gateway.daemon.stop()
        let down = try await login(["user": "alice", "password": "correct horse"])
        XCTAssertEqual(down.status, 503, down.text)
        XCTAssertEqual(down.json["status"] as? String, "error")
        try gateway.daemon.start()
        let back = try await login(["user": "alice", "password": "correct horse"])
        XCTAssertEqual(back.status, 200, back.text)
    }

    func testATwoFactorCodeIsRequiredAndAccepted() async throws {
        // Enrol alice through the daemon (as a web process would after a login).
        let cli = { (arguments: [String], input: String?) in
            try runCommand(DaemonProcess.tessera, ["--socket", self.gateway.daemon.socketPath] + arguments, input: input)
        }
        let session = try await login(["user": "alice", "password": "correct horse"])
        let token = try XCTUnwrap((session.json["data"] as? [String: Any])?["authToken"] as? String)
        let secret = try TOTPHelper.enrol(socket: gateway.daemon.socketPath, token: token)
        XCTAssertTrue(try cli(["2fa", "status", "alice"], nil).stdout.contains("enrolled"))

        let required = try await login(["user": "alice", "password": "correct horse"])
        XCTAssertEqual(required.status, 401, required.text)
        XCTAssertEqual(required.json["error"] as? String, "totp-required")
        let invalid = try await login(["user": "alice", "password": "correct horse", "code": "000000"])
        XCTAssertEqual(invalid.json["error"] as? String, "totp-invalid")
        let accepted = try await login(["user": "alice", "password": "correct horse", "code": secret.code(offset: 30)])
        XCTAssertEqual(accepted.status, 200, accepted.text)
    }

    /// Rocket.Chat's documented `me` (the login reply's and `GET /api/v1/me`'s), its login and
    /// logout envelopes and its error: every field, of its type, nothing else.
    static let meFields: [String: JSONKind] = [
        "_id": .string, "name": .string, "emails": .array, "status": .string, "statusConnection": .string, "username": .string,
        "utcOffset": .integer, "active": .bool, "roles": .strings, "settings": .object, "avatarUrl": .string,
    ]

    func testEveryResponseHasTheDocumentsFieldsOfTheirTypes() async throws {
        let reply = try await login(["user": "alice", "password": "correct horse"])
        assertShape(reply.json, ["status": .string, "data": .object], "login")
        let data = try XCTUnwrap(reply.json["data"] as? [String: Any])
        assertShape(data, ["authToken": .string, "userId": .string, "me": .object], "login.data")
        assertShape(try XCTUnwrap(data["me"] as? [String: Any]), Self.meFields, "login.data.me")
        for email in (data["me"] as? [String: Any])?["emails"] as? [[String: Any]] ?? [] {
            assertShape(email, ["address": .string, "verified": .bool], "me.emails[]")
        }
        let headers = [("X-Auth-Token", data["authToken"] as! String), ("X-User-Id", data["userId"] as! String)]
        let me = try await gateway.send(.GET, "/api/v1/me", headers: headers)
        assertShape(me.json, Self.meFields.merging(["success": .bool]) { $1 }, "GET /api/v1/me")
        let logout = try await gateway.send(.POST, "/api/v1/logout", headers: headers)
        assertShape(logout.json, ["status": .string, "data": .object], "logout")
        assertShape(try XCTUnwrap(logout.json["data"] as? [String: Any]), ["message": .string, "userId": .string], "logout.data")
        let refused = try await login(["user": "alice", "password": "wrong"])
        assertShape(refused.json, ["status": .string, "error": .string, "message": .string], "a refused login")
        let after = try await gateway.send(.GET, "/api/v1/me", headers: headers)
        assertShape(after.json, ["status": .string, "message": .string], "a request not logged in")
    }
}
