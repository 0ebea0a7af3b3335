import Foundation
import NIOHTTP1
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// `tessera import unleash` against a real PostgreSQL server (a throwaway cluster), holding
/// Unleash's tables as its migrations make them (Tests/Independent/unleash_schema.sql), filled
/// by Tests/Independent/make_unleash_db.py with bcryptjs-style hashes made by PyPI's bcrypt,
/// express-session cookies signed with the Unleash secret and personal access tokens of both
/// generations; then, through the real gateway's Unleash API, nobody is logged out.
final class UnleashImportTests: XCTestCase {
    var postgres: PostgresProcess?
    var gateway: GatewayProcess?

    override func tearDown() async throws {
        await gateway?.tearDown()
        postgres?.tearDown()
    }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    private func sha256(_ text: String) throws -> [UInt8] {
        let hex = try runCommand(
            "/usr/bin/env", ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", text]
        ).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count - 1, by: 2).compactMap { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }

    func testAnUnleashInstallationMovesOverWithNobodyLoggedOut() async throws {
        let postgres = try PostgresProcess()
        self.postgres = postgres
        try postgres.psql(file: IndependentPython.script("unleash_schema.sql"))
        let secret = "unleash-secret-" + UUID().uuidString
        let sql = postgres.directory.file("data.sql")
        let made = try runCommand(try IndependentPython.interpreter(), [IndependentPython.script("make_unleash_db.py"), sql, secret])
        XCTAssertEqual(made.status, 0, made.stderr)
        try postgres.psql(file: sql)
        let held = try json(made.stdout)
        let cookies = try XCTUnwrap(held["sessions"] as? [String: String])
        let tokens = try XCTUnwrap(held["tokens"] as? [String: String])

        // The secret in a file the gateway (running as nobody) and the importer can read.
        let secretFile = postgres.directory.file("unleash-secret")
        try Data(secret.utf8).write(to: URL(fileURLWithPath: secretFile))
        chmod(secretFile, 0o600)
        if let owner = getpwnam("nobody"), geteuid() == 0 { chown(secretFile, owner.pointee.pw_uid, owner.pointee.pw_gid) }
        let gateway = try GatewayProcess(arguments: ["--apis", "unleash", "--unleash-session-secret-file", secretFile])
        self.gateway = gateway
        func tessera(_ arguments: [String]) throws -> CommandResult {
            try runCommand(DaemonProcess.tessera, ["--socket", gateway.daemon.socketPath] + arguments)
        }
        let importing = [
            "import", "unleash", "--postgres", postgres.url, "--postgres-password-file", postgres.passwordFile, "--session-secret-file",
            secretFile,
        ]

        // A URL with the password in it is refused before anything is read.
        let inURL = try tessera(["import", "unleash", "--postgres", "postgres://unleash:hunter2@127.0.0.1:\(postgres.port)/unleash"])
        XCTAssertNotEqual(inURL.status, 0)
        XCTAssertTrue(inURL.stderr.contains("must not hold the password"), inURL.stderr)
        let dry = try tessera(importing + ["--dry-run", "--json"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(try json(dry.stdout)["created"] as? Int, 4, dry.stdout)
        XCTAssertTrue(try tessera(["user", "show", "admin"]).stderr.contains("not-found"), "a dry run writes nothing")

        let run = try tessera(importing + ["--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try json(run.stdout)
        XCTAssertEqual(summary["created"] as? Int, 4, run.stdout)
        XCTAssertEqual(summary["sessions"] as? Int, 2, run.stdout)
        XCTAssertEqual(summary["api_keys"] as? Int, 2, run.stdout)
        XCTAssertEqual(
            summary["not_imported"] as? [String: Int],
            [
                "deleted_users": 1, "unleash_system_users": 1, "expired_sessions": 1, "expired_access_tokens": 1,
                "sessions_of_users_left_out": 1,
            ], run.stdout)

        let admin = try json(try tessera(["user", "show", "admin", "--json"]).stdout)
        XCTAssertEqual(admin["external_id"] as? String, "1")
        XCTAssertEqual(admin["root_role"] as? String, "Admin")
        XCTAssertEqual(try json(try tessera(["user", "show", "ci-bot", "--json"]).stdout)["account_type"] as? String, "service")

        // The browsers' cookies are still logged in; a cookie whose signature was tampered with,
        // or one that had expired, is not.
        func user(cookie: String? = nil, authorization: String? = nil) async throws -> GatewayProcess.Reply {
            var headers: [(String, String)] = []
            if let cookie { headers.append(("Cookie", "unleash-session=\(cookie)")) }
            if let authorization { headers.append(("Authorization", authorization)) }
            return try await gateway.send(.GET, "/api/admin/user", headers: headers)
        }
        let adminCookie = try XCTUnwrap(cookies["admin"])
        let byCookie = try await user(cookie: adminCookie)
        XCTAssertEqual(byCookie.status, 200, byCookie.text)
        let shown = try XCTUnwrap(byCookie.json["user"] as? [String: Any])
        XCTAssertEqual(shown["id"] as? Int, 1, "Unleash's id: what its clients hold")
        XCTAssertEqual(shown["rootRole"] as? Int, 1)
        XCTAssertEqual(shown["email"] as? String, "admin@example.com")
        let editor = try await user(cookie: try XCTUnwrap(cookies["editor"]))
        XCTAssertEqual((editor.json["user"] as? [String: Any])?["id"] as? Int, 2, editor.text)
        XCTAssertEqual((editor.json["user"] as? [String: Any])?["rootRole"] as? Int, 2, editor.text)
        var forged = Array(adminCookie)
        forged[forged.count - 2] = forged[forged.count - 2] == "A" ? "B" : "A"
        let byForged = try await user(cookie: String(forged))
        XCTAssertEqual(byForged.status, 401, byForged.text)
        XCTAssertTrue(gateway.log.contains("/api/admin/user"))
        let byExpired = try await user(cookie: try XCTUnwrap(cookies["admin-expired"]))
        XCTAssertEqual(byExpired.status, 401, byExpired.text)
        let byGone = try await user(cookie: try XCTUnwrap(cookies["gone"]))
        XCTAssertEqual(byGone.status, 401, "a deleted Unleash user is not imported: \(byGone.text)")

        // Personal access tokens, old (stored as they are) and new (selector and verifier).
        let legacy = try await user(authorization: try XCTUnwrap(tokens["legacy"]))
        XCTAssertEqual((legacy.json["user"] as? [String: Any])?["id"] as? Int, 1, legacy.text)
        let v2 = try await user(authorization: try XCTUnwrap(tokens["v2"]))
        XCTAssertEqual((v2.json["user"] as? [String: Any])?["id"] as? Int, 2, v2.text)
        let expiredToken = try await user(authorization: try XCTUnwrap(tokens["expired"]))
        XCTAssertEqual(expiredToken.status, 401, expiredToken.text)

        // Passwords: bcryptjs's $2a$ and $2b$, by username and by email; after the first login the
        // stored hash is argon2id.
        func login(_ name: String, _ password: String) async throws -> GatewayProcess.Reply {
            try await gateway.send(.POST, "/auth/simple/login", json: ["username": name, "password": password])
        }
        let wrong = try await login("admin", "admin pas")
        XCTAssertEqual(wrong.status, 401, wrong.text)
        let adminLogin = try await login("admin", "admin pass")
        XCTAssertEqual(adminLogin.status, 200, adminLogin.text)
        XCTAssertEqual(adminLogin.json["id"] as? Int, 1)
        let editorLogin = try await login("editor@example.com", "editor pass")
        XCTAssertEqual(editorLogin.status, 200, editorLogin.text)
        XCTAssertEqual(editorLogin.json["rootRole"] as? Int, 2)
        let exported = try tessera(["export", "users"]).stdout.split(separator: "\n").map { try json(String($0)) }
        let adminHash = try XCTUnwrap(exported.first { $0["username"] as? String == "admin" }?["password_hash"] as? String)
        XCTAssertTrue(adminHash.hasPrefix("$argon2id$"), adminHash)

        // Logging out of an imported session ends it.
        let logout = try await gateway.send(.POST, "/logout", headers: [("Cookie", "unleash-session=\(adminCookie)")])
        XCTAssertEqual(logout.status, 302, logout.text)
        let afterLogout = try await user(cookie: adminCookie)
        XCTAssertEqual(afterLogout.status, 401, afterLogout.text)

        // A second run resumes after the last user and changes nothing; from the start, every
        // user is there already.
        let again = try tessera(importing)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("nothing to do"), again.stdout)
        let fromStart = try tessera(importing + ["--from-start", "--json"])
        XCTAssertEqual(try json(fromStart.stdout)["unchanged"] as? Int, 4, fromStart.stdout)
        XCTAssertEqual(try json(fromStart.stdout)["sessions"] as? Int, 0, fromStart.stdout)

        // The data file holds neither a cookie nor a token, nor their SHA-256.
        let dataFile = try Data(contentsOf: URL(fileURLWithPath: gateway.daemon.dataPath + "/data.mdb"))
        for secret in Array(cookies.values.map { $0.removingPercentEncoding ?? $0 }) + Array(tokens.values) {
            XCTAssertNil(dataFile.firstRange(of: Data(secret.utf8)), "data.mdb holds \(secret)")
            XCTAssertNil(dataFile.firstRange(of: Data(try sha256(secret))), "data.mdb holds the SHA-256 of \(secret)")
        }
    }

    /// Without the session secret the sessions cannot be recognised: they are counted, not
    /// imported, and the users still come in.
    func testWithoutTheSessionSecretSessionsAreCountedNotImported() async throws {
        let postgres = try PostgresProcess()
        self.postgres = postgres
        try postgres.psql(file: IndependentPython.script("unleash_schema.sql"))
        let sql = postgres.directory.file("data.sql")
        let made = try runCommand(try IndependentPython.interpreter(), [IndependentPython.script("make_unleash_db.py"), sql, "s3cret"])
        XCTAssertEqual(made.status, 0, made.stderr)
        try postgres.psql(file: sql)
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        try daemon.start()
        defer { daemon.tearDown() }
        let run = try runCommand(
            DaemonProcess.tessera,
            [
                "--socket", daemon.socketPath, "import", "unleash", "--postgres", postgres.url, "--postgres-password-file", postgres.passwordFile,
                "--json",
            ])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try json(run.stdout)
        XCTAssertEqual(summary["created"] as? Int, 4, run.stdout)
        XCTAssertEqual(summary["sessions"] as? Int, 0, run.stdout)
        XCTAssertEqual((summary["not_imported"] as? [String: Int])?["sessions_without_the_session_secret"], 3, run.stdout)
        // A wrong database password is a clear error.
        let wrongPassword = postgres.directory.file("wrong")
        try Data("nope\n".utf8).write(to: URL(fileURLWithPath: wrongPassword))
        let refused = try runCommand(
            DaemonProcess.tessera,
            ["--socket", daemon.socketPath, "import", "unleash", "--postgres", postgres.url, "--postgres-password-file", wrongPassword])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("password authentication failed"), refused.stderr)
    }
}
