import Foundation
import TesseraProtocol
import TestSupport
import XCTest

/// `tessera import users` and `tessera export users` against the real daemon, with hashes made by
/// independent implementations (PyPI's bcrypt, passlib and argon2-cffi; Tests/Independent/
/// make_import_users.py): every scheme logs in with its password and refuses another, malformed
/// records are reported and skipped, a second run changes nothing, an export imported into a
/// fresh daemon logs everyone in with the same password, and a killed import resumes.
final class ImportEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    var second: DaemonProcess?
    override func tearDown() {
        daemon?.tearDown()
        second?.tearDown()
    }

    private func tessera(_ arguments: [String], on daemon: DaemonProcess, input: String? = nil) throws -> CommandResult {
        try runCommand(DaemonProcess.tessera, arguments + ["--socket", daemon.socketPath], input: input)
    }

    private func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    /// The users of the generated file and their passwords.
    private func makeFile(_ path: String) throws -> [String: String] {
        let python = try IndependentPython.interpreter()
        let made = try runCommand(python, [IndependentPython.script("make_import_users.py"), path])
        XCTAssertEqual(made.status, 0, made.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: String])
    }

    private func assertLogsIn(_ users: [String: String], on daemon: DaemonProcess, code: () throws -> String) throws {
        for (name, password) in users.sorted(by: { $0.key < $1.key }) {
            let wrong = try tessera(["login", name], on: daemon, input: password + "x\n")
            XCTAssertNotEqual(wrong.status, 0, name)
            XCTAssertTrue(wrong.stderr.contains("bad-credentials"), "\(name): \(wrong.stderr)")
            var arguments = ["login", name, "--json"]
            if name == "bcrypt-2b" { arguments += ["--code", try code()] }
            let right = try tessera(arguments, on: daemon, input: password + "\n")
            XCTAssertEqual(right.status, 0, "\(name): \(right.stderr)")
        }
    }

    /// pyotp's code for the generated TOTP secret.
    private func code() throws -> String {
        let uri = "otpauth://totp/import:b2b?secret=JBSWY3DPEHPK3PXPJBSWY3DP&algorithm=SHA1&digits=6&period=30"
        let time = String(Int(Date().timeIntervalSince1970))
        let result = try runCommand(try IndependentPython.interpreter(), [IndependentPython.script("totp_codes.py"), uri, time])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testEverySchemeImportsLogsInAndMovesToAnotherDaemonByExport() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        try daemon.start()
        let file = daemon.directory + "/users.jsonl"
        let users = try makeFile(file)

        let dry = try tessera(["import", "users", file, "--dry-run", "--json"], on: daemon)
        XCTAssertEqual(dry.status, 2, dry.stderr)
        XCTAssertEqual(try json(dry.stdout)["created"] as? Int, users.count)
        XCTAssertEqual(try tessera(["user", "show", "argon2id"], on: daemon).status, 1, "a dry run writes nothing")

        let run = try tessera(["import", "users", file, "--json"], on: daemon)
        XCTAssertEqual(run.status, 2, "some records were refused: \(run.stderr)")
        let summary = try json(run.stdout)
        XCTAssertEqual(summary["created"] as? Int, users.count)
        let rejected = try XCTUnwrap(summary["rejected"] as? [[String: Any]])
        let reasons = Dictionary(uniqueKeysWithValues: rejected.map { ($0["line"] as! Int, $0["reason"] as! String) })
        let first = users.count + 1
        XCTAssertEqual(Set(reasons.keys), Set(first..<(first + 6)), "\(rejected)")
        XCTAssertTrue(reasons[first]!.contains("malformed or truncated"), reasons[first]!)
        XCTAssertTrue(reasons[first + 1]!.contains("no scheme"), reasons[first + 1]!)
        XCTAssertTrue(reasons[first + 2]!.contains("duplicate username \"bcrypt-2b\" (first on line 1)"), reasons[first + 2]!)
        XCTAssertTrue(reasons[first + 3]!.contains("created_at"), reasons[first + 3]!)
        XCTAssertTrue(reasons[first + 4]!.contains("line of 104857"), "the line's length is said: \(reasons[first + 4]!)")
        XCTAssertTrue(reasons[first + 4]!.contains("a record is at most"), reasons[first + 4]!)
        XCTAssertTrue(reasons[first + 5]!.contains("the key \"username\" appears twice"), reasons[first + 5]!)
        for line in reasons.keys { XCTAssertTrue(run.stderr.contains("line \(line) ("), "each refusal on standard error: \(run.stderr)") }

        let show = try json(try tessera(["user", "show", "bcrypt-2b", "--json"], on: daemon).stdout)
        XCTAssertEqual(show["external_id"] as? String, "1000")
        XCTAssertEqual(show["roles"] as? [String], ["admin"])
        XCTAssertEqual(show["created_at"] as? String, "2021-03-04T05:06:07Z")
        XCTAssertEqual(show["settings"] as? [String: String], ["theme": "dark"])

        // A second run: the position says the file is in; from the start, every user is there.
        let again = try tessera(["import", "users", file], on: daemon)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.contains("nothing to do"), again.stdout)
        let fromStart = try json(try tessera(["import", "users", file, "--from-start", "--json"], on: daemon).stdout)
        XCTAssertEqual(fromStart["created"] as? Int, 0)
        XCTAssertEqual(fromStart["unchanged"] as? Int, users.count)

        // Exported before anyone logged in: the foreign hashes as they are, and the secret.
        let exported = daemon.directory + "/export.jsonl"
        let export = try tessera(["export", "users", "--output", exported, "--two-factor-secrets"], on: daemon)
        XCTAssertEqual(export.status, 0, export.stderr)
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: exported)[.posixPermissions] as? Int)
        XCTAssertEqual(mode, 0o600)
        XCTAssertNotEqual(try tessera(["export", "users", "--output", exported], on: daemon).status, 0, "never overwritten")
        XCTAssertNotEqual(try tessera(["export", "users", "--two-factor-secrets"], on: daemon).status, 0, "secrets only to a file")

        try assertLogsIn(users, on: daemon, code: code)
        let stored = try String(contentsOfFile: exported, encoding: .utf8)
        XCTAssertTrue(stored.contains("\"secret\":\"JBSWY3DPEHPK3PXPJBSWY3DP\""))

        // The export into a fresh daemon: everyone logs in with the same password there too.
        let fresh = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        second = fresh
        try fresh.start()
        let moved = try json(try tessera(["import", "users", exported, "--json"], on: fresh).stdout)
        XCTAssertEqual(moved["created"] as? Int, users.count)
        XCTAssertEqual((moved["rejected"] as? [Any])?.count, 0)
        try assertLogsIn(users, on: fresh, code: code)

        // After their logins every hash on the first daemon is argon2id.
        let after = try tessera(["export", "users"], on: daemon)
        for line in after.stdout.split(separator: "\n") {
            let hash = try XCTUnwrap(try json(String(line))["password_hash"] as? String)
            XCTAssertTrue(hash.hasPrefix("$argon2id$") || hash.hasPrefix("sha256-hex:$argon2id$"), hash)
        }
    }

    /// Rocket.Chat's users from a mongoexport file (Tests/Independent/make_rocketchat_users.py:
    /// Meteor's bcrypt and argon2id of the password's SHA-256 hex, made by PyPI's bcrypt and
    /// argon2-cffi), as JSON lines in relaxed Extended JSON and as an array in canonical form.
    func testRocketChatUsersLogInWithTheirPasswordsAndTheirAuthenticators() throws {
        let python = try IndependentPython.interpreter()
        for mode in ["lines", "array"] {
            daemon?.tearDown()
            daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
            try daemon.start()
            let file = daemon.directory + "/users.export"
            let made = try runCommand(python, [IndependentPython.script("make_rocketchat_users.py"), file, mode])
            XCTAssertEqual(made.status, 0, made.stderr)

            let run = try tessera(["import", "rocketchat", file, "--json"], on: daemon)
            XCTAssertEqual(run.status, 2, "\(mode): two documents are malformed: \(run.stderr)")
            let summary = try json(run.stdout)
            XCTAssertEqual(summary["created"] as? Int, 5, mode)
            let rejected = try XCTUnwrap(summary["rejected"] as? [[String: Any]])
            let position = mode == "array" ? "document" : "line"
            XCTAssertEqual(rejected.map { $0[position] as? Int }, [6, 7], "\(mode): \(rejected)")
            XCTAssertTrue((rejected[0]["reason"] as? String)?.contains("username is missing") == true, "\(rejected[0])")
            XCTAssertTrue((rejected[1]["reason"] as? String)?.contains("createdAt") == true, "\(rejected[1])")
            XCTAssertEqual(
                summary["not_imported"] as? [String: Int],
                ["expired_login_tokens": 1, "login_tokens_beyond_the_newest_100": 0, "unreadable_tokens": 1], "what is left out is said")
            XCTAssertEqual(summary["sessions"] as? Int, 1, mode)
            XCTAssertEqual(summary["api_keys"] as? Int, 1, mode)

            // What alice's apps hold keeps working: the login token as a session of hers, the
            // personal access token as an API key; the expired one does not. The data file holds
            // none of them, nor Rocket.Chat's digests of them.
            let held = try json(made.stdout)
            let authToken = try XCTUnwrap(held["authToken"] as? String)
            let accessToken = try XCTUnwrap(held["personalAccessToken"] as? String)
            let verified = try tessera(["verify", "--json"], on: daemon, input: authToken + "\n")
            XCTAssertEqual(verified.status, 0, "\(mode): \(verified.stderr)")
            let aliceID = try json(try tessera(["user", "show", "alice", "--json"], on: daemon).stdout)["id"] as? Int
            XCTAssertEqual(try json(verified.stdout)["user_id"] as? Int, try XCTUnwrap(aliceID), verified.stdout)
            let key = try tessera(["verify", "--json"], on: daemon, input: accessToken + "\n")
            XCTAssertEqual(try json(key.stdout)["api_key_name"] as? String, "ci", key.stdout + key.stderr)
            let expired = try tessera(["verify"], on: daemon, input: (held["expiredToken"] as? String ?? "") + "\n")
            XCTAssertTrue(expired.stderr.contains("token-invalid"), expired.stderr)
            let dataFile = try Data(contentsOf: URL(fileURLWithPath: daemon.dataPath + "/data.mdb"))
            for secret in [authToken, accessToken] + (held["backupCodes"] as? [String] ?? []) {
                XCTAssertNil(dataFile.firstRange(of: Data(secret.utf8)), "data.mdb holds \(secret)")
                XCTAssertNil(dataFile.firstRange(of: Data(Self.sha256(secret))), "data.mdb holds the SHA-256 of \(secret)")
            }

            let alice = try json(try tessera(["user", "show", "alice", "--json"], on: daemon).stdout)
            XCTAssertEqual(alice["external_id"] as? String, "aLiCe1234567890ab")
            XCTAssertEqual(alice["email"] as? String, "alice@example.com")
            XCTAssertEqual(alice["roles"] as? [String], ["user", "admin"])
            XCTAssertEqual(alice["created_at"] as? String, "2023-01-02T03:04:05Z")
            let cat = try json(try tessera(["user", "show", "rocket.cat", "--json"], on: daemon).stdout)
            XCTAssertEqual(cat["account_type"] as? String, "service")

            XCTAssertTrue(try tessera(["login", "alice"], on: daemon, input: "alice pass\n").stderr.contains("2fa-required"))
            let withCode = try tessera(["login", "alice", "--code", try code()], on: daemon, input: "alice pass\n")
            XCTAssertEqual(withCode.status, 0, "\(mode): \(withCode.stderr)")
            XCTAssertTrue(try tessera(["login", "bob"], on: daemon, input: "bob pas\n").stderr.contains("bad-credentials"))
            XCTAssertEqual(try tessera(["login", "bob"], on: daemon, input: "bob pass\n").status, 0, mode)
            XCTAssertTrue(
                try tessera(["login", "carol"], on: daemon, input: "carol pass\n").stderr.contains("inactive-account"),
                "an inactive Rocket.Chat user is disabled")
            // Meteor's digest form: the password's SHA-256 hex, first (the bcrypt hash is replaced
            // by argon2id over the same hex), then the plain password still logs in.
            let connection = try RawConnection(path: daemon.socketPath, timeoutSeconds: 30)
            func digestLogin(_ name: String, _ password: String) throws -> UInt16 {
                var login = LoginRequest(identifier: name, password: Array(Self.sha256Hex(password).utf8))
                login.passwordIsSHA256Hex = true
                connection.send(.login, requestID: 9, login)
                return try XCTUnwrap(connection.readFrame()).status
            }
            XCTAssertEqual(try digestLogin("dave", "dave pas"), Status.badCredentials.rawValue)
            XCTAssertEqual(try digestLogin("dave", "dave pass"), 0, mode)
            XCTAssertEqual(try digestLogin("dave", "dave pass"), 0, "\(mode): after the re-hash")
            XCTAssertEqual(try tessera(["login", "dave"], on: daemon, input: "dave pass\n").status, 0, mode)
            let daveHash = try XCTUnwrap(
                try tessera(["export", "users"], on: daemon).stdout.split(separator: "\n").map { try json(String($0)) }
                    .first { $0["username"] as? String == "dave" }?["password_hash"] as? String)
            XCTAssertTrue(daveHash.hasPrefix("sha256-hex:$argon2id$"), daveHash)
            let again = try tessera(["import", "rocketchat", file], on: daemon)
            XCTAssertEqual(again.status, 0, again.stderr)
            XCTAssertTrue(again.stdout.contains("nothing to do"), again.stdout)
        }
    }

    private static func sha256(_ text: String) -> [UInt8] {
        let hex = Array(sha256Hex(text).utf8)
        return stride(from: 0, to: hex.count - 1, by: 2).compactMap { UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16) }
    }

    private static func sha256Hex(_ text: String) -> String {
        let result = try! runCommand(
            "/usr/bin/env", ["python3", "-c", "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())", text])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The daemon and the import killed with SIGKILL in the middle, then the same command again:
    /// every user exactly once.
    func testAnImportKilledMidwayResumesAndWritesEveryUserOnce() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        try daemon.start()
        let count = 30_000
        let file = daemon.directory + "/many.jsonl"
        var text = ""
        for index in 0..<count {
            text +=
                "{\"username\":\"user\(index)\",\"external_id\":\"\(index)\",\"password_hash\":\"$2b$04$aMwLH51pIxn8QzhfPU6Sgent42WPv4o9WPXCogNtJnP78f85qBzQ2\"}\n"
        }
        try text.write(toFile: file, atomically: true, encoding: .utf8)

        let importer = Process()
        importer.executableURL = URL(fileURLWithPath: DaemonProcess.tessera)
        importer.arguments = ["import", "users", file, "--socket", daemon.socketPath]
        importer.standardOutput = FileHandle.nullDevice
        importer.standardError = FileHandle.nullDevice
        try importer.run()
        // Wait (bounded) until some users are in, then kill both.
        var seen = 0
        for _ in 0..<2000 where seen == 0 {
            let page = try tessera(["user", "list", "--after", "\(count / 10)", "--limit", "1"], on: daemon)
            seen = page.stdout.split(separator: "\n").filter { $0.contains("user") }.count
        }
        XCTAssertGreaterThan(seen, 0, "the import got past a tenth of the file")
        _ = daemon.stop(signal: SIGKILL)
        kill(importer.processIdentifier, SIGKILL)
        importer.waitUntilExit()

        try daemon.start()
        let resumed = try tessera(["import", "users", file, "--json"], on: daemon)
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        let summary = try json(resumed.stdout)
        XCTAssertGreaterThan(summary["resumed_after"] as? Int ?? 0, 0, "the second run started after what the first committed")
        XCTAssertLessThan(summary["records"] as? Int ?? count, count)

        let exported = try tessera(["export", "users"], on: daemon)
        let names = exported.stdout.split(separator: "\n").map { try! json(String($0))["username"] as! String }
        XCTAssertEqual(names.count, count, "every user once")
        XCTAssertEqual(Set(names).count, count)
    }
}
