import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

/// The login policy and the session administration through the real daemon and the CLI.
final class PolicyEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private func loginError(_ client: TesseraClient, _ password: String) async -> TesseraError? {
        do {
            _ = try await client.login(identifier: "alice", password: Array(password.utf8))
            return nil
        } catch let TesseraClientError.server(error) {
            return error
        } catch {
            XCTFail("\(error)")
            return nil
        }
    }

    func testLockoutSurvivesARestartAndAnAdminUnlockLiftsIt() async throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--lockout-threshold", "2", "--lockout-delay", "600"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let first = await loginError(client, "wrong one")
        let second = await loginError(client, "wrong two")
        XCTAssertEqual(first?.code, .badCredentials)
        XCTAssertEqual(second?.code, .badCredentials)
        let locked = await loginError(client, "correct horse")
        XCTAssertEqual(locked?.code, .locked)
        XCTAssertEqual(locked?.retryAfter.map { $0 > .seconds(590) && $0 <= .seconds(600) }, true)

        try daemon.restart()
        let stillLocked = await loginError(client, "correct horse")
        XCTAssertEqual(stillLocked?.code, .locked, "the lock is in LMDB, not in memory")

        let unlock = try runCommand(DaemonProcess.tessera, ["user", "unlock", "alice", "--socket", daemon.socketPath])
        XCTAssertEqual(unlock.status, 0, unlock.stderr)
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
    }

    func testGuessesSentTogetherCannotOutrunTheLockAndALockTellsNothing() async throws {
        // A few milliseconds a hash, so that the guesses overlap.
        daemon = DaemonProcess(arguments: ["--argon2-ops", "2", "--argon2-mem-kib", "4096", "--lockout-threshold", "3", "--lockout-delay", "600"])
        try daemon.start()
        let admin = TesseraClient(socketPath: daemon.socketPath)
        _ = try await admin.createUser(username: "alice", password: Array("correct horse".utf8), email: "alice@example.com")
        _ = try await admin.createUser(username: "bob", password: Array("battery staple".utf8), email: "bob@example.com")
        let socketPath = daemon.socketPath
        // 39 wrong guesses, pipelined on three connections.
        async let guesses = Self.guesses(at: "alice", connections: 3, each: 13, socketPath: socketPath)
        // Once the first guess has failed, at most two more can be checked before the lock;
        // the right password, sent now, must find the account locked.
        while try await admin.user(.username("alice")).failedLogins < 1 { await Task.yield() }
        let right = await Self.loginStatus(admin, "alice", "correct horse")
        let wrong = try await guesses
        XCTAssertEqual(right, .locked)
        XCTAssertEqual(wrong.filter { $0 == .badCredentials }.count, 3, "three guesses checked")
        XCTAssertEqual(wrong.filter { $0 == .locked }.count, 36, "the others answered by the lock, unchecked")
        let failures = try await admin.user(.username("alice")).failedLogins
        XCTAssertEqual(failures, 3, "an attempt under the lock is not counted")

        // Locked through her username, alice's email answers even the right password as bob's
        // email and an unknown one answer a wrong one; each locks by its own count.
        for round in 0..<3 {
            let byEmail = await Self.loginStatus(admin, "alice@example.com", "correct horse")
            XCTAssertEqual(byEmail, .badCredentials, "round \(round)")
            for identifier in ["bob@example.com", "nobody@example.com"] {
                let status = await Self.loginStatus(admin, identifier, "another guess")
                XCTAssertEqual(status, .badCredentials, "\(identifier), round \(round)")
            }
        }
        for identifier in ["alice@example.com", "bob@example.com", "nobody@example.com"] {
            let status = await Self.loginStatus(admin, identifier, identifier == "bob@example.com" ? "battery staple" : "correct horse")
            XCTAssertEqual(status, .locked, identifier)
        }
        await admin.close()
    }

    /// The audit's finding: once locked, a wrong guess answered `bad-credentials` and the right
    /// one `locked`. Now both read the same bytes (but for the random trace id).
    func testALockedAccountAnswersTheRightAndAWrongPasswordByteForByte() throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--lockout-threshold", "2", "--lockout-delay", "600"])
        try daemon.start()
        let connection = try RawConnection(path: daemon.socketPath)
        connection.send(.createUser, requestID: 1, CreateUserRequest(username: "alice", password: Array("correct horse".utf8)))
        XCTAssertEqual(connection.readFrame()?.status, 0)
        func reply(_ password: String) throws -> ErrorBody {
            connection.send(.login, requestID: 2, LoginRequest(identifier: "alice", password: Array(password.utf8)))
            let frame = try XCTUnwrap(connection.readFrame())
            XCTAssertEqual(frame.status, Status.locked.rawValue)
            var body = try ErrorBody(decoding: frame.body)
            body.traceID = nil
            return body
        }
        for guess in 0..<2 {
            connection.send(.login, requestID: 2, LoginRequest(identifier: "alice", password: Array("wrong \(guess)".utf8)))
            XCTAssertEqual(connection.readFrame()?.status, Status.badCredentials.rawValue)
        }
        let (right, wrong) = (try reply("correct horse"), try reply("wrong 3"))
        XCTAssertEqual(right.retryAfterSeconds.map { $0 > 590 && $0 <= 600 }, true)
        XCTAssertEqual(right, wrong)
    }

    private static func guesses(at identifier: String, connections: Int, each: Int, socketPath: String) async throws -> [TesseraError.Code?] {
        try await withThrowingTaskGroup(of: [TesseraError.Code?].self) { group -> [TesseraError.Code?] in
            for connection in 0..<connections {
                group.addTask {
                    let client = TesseraClient(socketPath: socketPath)
                    let statuses = await withTaskGroup(of: TesseraError.Code?.self) { inner -> [TesseraError.Code?] in
                        for guess in 0..<each {
                            inner.addTask { await loginStatus(client, identifier, "wrong \(connection)-\(guess)") }
                        }
                        return await inner.reduce(into: []) { $0.append($1) }
                    }
                    await client.close()
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    private static func loginStatus(_ client: TesseraClient, _ identifier: String, _ password: String) async -> TesseraError.Code? {
        do {
            _ = try await client.login(identifier: identifier, password: Array(password.utf8))
            return nil  // logged in
        } catch let TesseraClientError.server(error) {
            return error.code
        } catch {
            return .internal
        }
    }

    /// At the default log level, a refused login leaves a line with the user's id and the
    /// client's address, and the failure that sets a lock says so; never the password, never
    /// an unknown identifier's text.
    func testRefusedLoginsAndLocksAreLoggedAtTheDefaultLevel() async throws {
        // The last --log-level wins: the daemon runs at its default, info.
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--lockout-threshold", "2", "--log-level", "info"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        for _ in 0..<2 {
            _ = try? await client.login(identifier: "alice", password: Array("hunter2-wrong".utf8), clientIP: "203.0.113.7")
        }
        _ = try? await client.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.7")
        _ = try? await client.login(identifier: "ghost@example.com", password: Array("hunter2-wrong".utf8))
        XCTAssertTrue(daemon.waitForLog { $0.contains("login refused: bad credentials") && $0.contains("user.id=none") }, daemon.log)
        let lines = daemon.log.split(separator: "\n")
        let refused = lines.filter { $0.contains("login refused") }
        XCTAssertEqual(refused.count, 4, refused.joined(separator: "\n"))
        XCTAssertTrue(refused.allSatisfy { $0.contains(" notice ") }, "notice, seen at the default level")
        XCTAssertEqual(refused.filter { $0.contains("user.id=1") && $0.contains("client.ip=203.0.113.7") }.count, 3)
        XCTAssertTrue(refused.contains { $0.contains("bad credentials; locked") && $0.contains("lock.seconds=") }, "the failure that set the lock")
        XCTAssertTrue(refused.contains { $0.contains("login refused: locked") && $0.contains("retry_after_seconds=") })
        XCTAssertFalse(daemon.log.contains("hunter2"), "no password in the log")
        XCTAssertFalse(daemon.log.contains("ghost"), "no unknown identifier in the log")
    }

    func testStatesAndSessionAdministrationFromTheCLI() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        let socket = ["--socket", daemon.socketPath]
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["user", "add", "alice"] + socket, input: "correct horse\n").status, 0)
        var tokens: [String] = []
        for _ in 0..<3 {
            let login = try runCommand(DaemonProcess.tessera, ["login", "alice", "--json"] + socket, input: "correct horse\n")
            XCTAssertEqual(login.status, 0, login.stderr)
            tokens.append((try JSONSerialization.jsonObject(with: Data(login.stdout.utf8)) as! [String: Any])["token"] as! String)
        }
        let list = try runCommand(DaemonProcess.tessera, ["sessions", "list", "alice", "--json"] + socket)
        XCTAssertEqual(list.status, 0, list.stderr)
        let sessions = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [String: Any])["sessions"] as! [[String: Any]]
        XCTAssertEqual(sessions.count, 3)
        XCTAssertFalse(list.stdout.contains(tokens[0]), "a session list never shows tokens")
        let ids = sessions.map { $0["id"] as! String }

        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["sessions", "revoke", ids[0]] + socket).status, 0)
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, ["verify", tokens[0]] + socket).status, 0)
        let made = try runCommand(DaemonProcess.tessera, ["apikey", "create", "alice", "ci", "--json"] + socket)
        XCTAssertEqual(made.status, 0, made.stderr)
        let apiKey = (try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as! [String: Any])["key"] as! String
        let all = try runCommand(DaemonProcess.tessera, ["sessions", "revoke-all", "alice", "--except", ids[2], "--json"] + socket)
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertTrue(all.stdout.contains("\"revoked\":1"), all.stdout)
        XCTAssertTrue(all.stdout.contains("\"api_keys_revoked\":1"), "log out everywhere ends the API keys: \(all.stdout)")
        let client = TesseraClient(socketPath: daemon.socketPath)
        do {
            _ = try await client.verifyAPIKey(apiKey)
            XCTFail("the API key outlived log out everywhere")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .tokenRevoked)
        }
        await client.close()
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, ["verify", tokens[1]] + socket).status, 0)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["verify", tokens[2]] + socket).status, 0)

        let disable = try runCommand(DaemonProcess.tessera, ["user", "set-state", "alice", "disabled", "--json"] + socket)
        XCTAssertEqual(disable.status, 0, disable.stderr)
        XCTAssertTrue(disable.stdout.contains("\"state\":\"disabled\""), disable.stdout)
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, ["verify", tokens[2]] + socket).status, 0, "disabling ends sessions")
        let refused = try runCommand(DaemonProcess.tessera, ["login", "alice"] + socket, input: "correct horse\n")
        XCTAssertTrue(refused.stderr.contains("inactive-account"), refused.stderr)
        let wrong = try runCommand(DaemonProcess.tessera, ["login", "alice"] + socket, input: "wrong password\n")
        XCTAssertTrue(wrong.stderr.contains("bad-credentials"), "the state is not revealed without the password: \(wrong.stderr)")
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, ["user", "set-state", "alice", "frozen"] + socket).status, 0)
    }

    func testAResetSaysHowManySessionsAndKeysItEnded() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        let socket = ["--socket", daemon.socketPath]
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["user", "add", "alice"] + socket, input: "correct horse\n").status, 0)
        for _ in 0..<2 {
            XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["login", "alice"] + socket, input: "correct horse\n").status, 0)
        }
        for name in ["ci", "deploy", "backup"] {
            XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["apikey", "create", "alice", name] + socket).status, 0)
        }
        let reset = try runCommand(DaemonProcess.tessera, ["user", "passwd", "alice", "--json"] + socket, input: "battery staple\n")
        XCTAssertEqual(reset.status, 0, reset.stderr)
        let report = try JSONSerialization.jsonObject(with: Data(reset.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(report["revoked"] as? Int, 2, reset.stdout)
        XCTAssertEqual(report["api_keys_revoked"] as? Int, 3, reset.stdout)
        let again = try runCommand(DaemonProcess.tessera, ["user", "passwd", "alice"] + socket, input: "correct horse\n")
        XCTAssertEqual(again.stdout, "password set; ended 0 session(s) and 0 API key(s) of alice\n", again.stderr)
    }
}
