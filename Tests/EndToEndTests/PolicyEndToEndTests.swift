import Foundation
import TesseraClient
import TesseraProtocol
import XCTest

/// The login policy and the session administration through the real daemon and the CLI.
final class PolicyEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private func loginError(_ client: TesseraClient, _ password: String) async -> ServerError? {
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
        XCTAssertEqual(first?.status, .badCredentials)
        XCTAssertEqual(second?.status, .badCredentials)
        let locked = await loginError(client, "correct horse")
        XCTAssertEqual(locked?.status, .locked)
        XCTAssertEqual(locked?.retryAfterSeconds.map { $0 > 590 && $0 <= 600 }, true)

        try daemon.restart()
        let stillLocked = await loginError(client, "correct horse")
        XCTAssertEqual(stillLocked?.status, .locked, "the lock is in LMDB, not in memory")

        let unlock = try runCommand(DaemonProcess.tessera, ["user", "unlock", "alice", "--socket", daemon.socketPath])
        XCTAssertEqual(unlock.status, 0, unlock.stderr)
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
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
        let all = try runCommand(DaemonProcess.tessera, ["sessions", "revoke-all", "alice", "--except", ids[2], "--json"] + socket)
        XCTAssertEqual(all.status, 0, all.stderr)
        XCTAssertTrue(all.stdout.contains("\"revoked\":1"), all.stdout)
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
}

final class RefreshEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    func testRefreshRotatesAndAReplayAfterTheGraceWindowRevokes() async throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--refresh-grace", "1"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let refreshToken = login.refreshToken

        let cli = try runCommand(DaemonProcess.tessera, ["refresh", refreshToken, "--json", "--socket", daemon.socketPath])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        let pair = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as! [String: Any]
        let newToken = try XCTUnwrap(pair["token"] as? String)
        XCTAssertNotNil(pair["refresh_token"] as? String)
        _ = try await client.verify(token: newToken)

        let retry = try await client.refresh(refreshToken: refreshToken)
        XCTAssertEqual(retry.token, newToken, "within the grace window: the same pair")

        // Replays inside the window keep returning the same pair (nothing changes); the first one
        // after it closes is refused. Wait for that event, up to a deadline.
        let deadline = ContinuousClock.now + .seconds(10)
        var replayed: Status?
        while replayed == nil, ContinuousClock.now < deadline {
            do {
                let again = try await client.refresh(refreshToken: refreshToken)
                XCTAssertEqual(again.token, newToken, "within the grace window: the same pair")
                try await Task.sleep(for: .milliseconds(50))
            } catch let TesseraClientError.server(error) {
                replayed = error.status
            }
        }
        XCTAssertEqual(replayed, .refreshReused, "a replay after the window must fail")
        do {
            _ = try await client.verify(token: newToken)
            XCTFail("the family's session must be gone")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.status, .tokenInvalid)
        }
    }
}

final class RehashEndToEndTests: XCTestCase {
    /// Restarted with stronger argon2id parameters, the daemon re-hashes on the next login:
    /// the new parameters appear in the data file.
    func testOutdatedHashIsReplacedAfterAParameterChange() async throws {
        let weak = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        defer { weak.tearDown() }
        try weak.start()
        let client = TesseraClient(socketPath: weak.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        weak.stop()
        let data = weak.dataPath + "/data.mdb"
        let before = try Data(contentsOf: URL(fileURLWithPath: data))
        XCTAssertNotNil(before.range(of: Data("$argon2id$v=19$m=64,t=1,p=1$".utf8)))

        let strong = DaemonProcess(arguments: ["--argon2-ops", "2", "--argon2-mem-kib", "128"])
        defer { strong.tearDown() }
        try FileManager.default.removeItem(atPath: strong.directory)
        try FileManager.default.copyItem(atPath: weak.directory, toPath: strong.directory)
        try strong.start()
        _ = try await TesseraClient(socketPath: strong.socketPath).login(identifier: "alice", password: Array("correct horse".utf8))
        strong.stop()
        let after = try Data(contentsOf: URL(fileURLWithPath: strong.dataPath + "/data.mdb"))
        XCTAssertNotNil(after.range(of: Data("$argon2id$v=19$m=128,t=2,p=1$".utf8)), "the password was re-hashed with the new parameters")
    }
}

final class ProfileEndToEndTests: XCTestCase {
    func testRegisterUnvalidatedValidateAndUpdateFromTheCLI() throws {
        let daemon = DaemonProcess()
        defer { daemon.tearDown() }
        try daemon.start()
        let socket = ["--socket", daemon.socketPath]
        let add = try runCommand(
            DaemonProcess.tessera, ["user", "add", "alice", "--phone", "+33612345678", "--unvalidated", "--json"] + socket,
            input: "correct horse\n")
        XCTAssertEqual(add.status, 0, add.stderr)
        let created = try JSONSerialization.jsonObject(with: Data(add.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(created["state"] as? String, "unvalidated")
        let code = try XCTUnwrap(created["validation_code"] as? String)
        let refused = try runCommand(DaemonProcess.tessera, ["login", "+33612345678"] + socket, input: "correct horse\n")
        XCTAssertTrue(refused.stderr.contains("account-not-validated"), refused.stderr)
        // That login issued a fresh code: the first one no longer works.
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, ["user", "validate", code] + socket).status, 0)

        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["user", "set-state", "alice", "active"] + socket).status, 0)
        let update = try runCommand(
            DaemonProcess.tessera, ["user", "update", "+33612345678", "--email", "a@example.com", "--role", "admin", "--json"] + socket)
        XCTAssertEqual(update.status, 0, update.stderr)
        XCTAssertTrue(update.stdout.contains("\"email\":\"a@example.com\""), update.stdout)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["login", "a@example.com"] + socket, input: "correct horse\n").status, 0)
    }
}

final class AccountLifecycleEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func setUpWithError() throws {
        daemon = DaemonProcess()
        try daemon.start()
    }
    override func tearDown() { daemon.tearDown() }

    private func status(_ body: () async throws -> Void) async -> Status? {
        do {
            try await body()
            return nil
        } catch let TesseraClientError.server(error) {
            return error.status
        } catch {
            return .internal
        }
    }

    func testConcurrentRefreshesOfOneTokenYieldOnePair() async throws {
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let refresh = login.refreshToken
        // Several connections at once, as several browser tabs would.
        let socketPath = daemon.socketPath
        let pairs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let tab = TesseraClient(socketPath: socketPath)
                    return try await tab.refresh(refreshToken: refresh).token
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        XCTAssertEqual(pairs.count, 1, "exactly one new pair")
        _ = try await client.verify(token: pairs.first!)
    }

    func testPasswordChangeRevokesOtherSessionsAndDeletionLeavesNothingThatVerifies() async throws {
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let here = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let there = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        try await client.changePassword(token: here.token, current: Array("correct horse".utf8), new: Array("battery staple".utf8))
        _ = try await client.verify(token: here.token)
        let other = await status { _ = try await client.verify(token: there.token) }
        XCTAssertEqual(other, .tokenInvalid)
        let oldPassword = await status { _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8)) }
        XCTAssertEqual(oldPassword, .badCredentials)

        let third = try await client.login(identifier: "alice", password: Array("battery staple".utf8))
        try await client.deleteUser(.username("alice"))
        for token in [here.token, third.token] {
            let verify = await status { _ = try await client.verify(token: token) }
            XCTAssertEqual(verify, .tokenInvalid)
        }
        let refresh = await status { _ = try await client.refresh(refreshToken: third.refreshToken) }
        XCTAssertNotNil(refresh)
        let gone = await status { _ = try await client.user(.username("alice")) }
        XCTAssertEqual(gone, .notFound)
    }
}

final class SweepEndToEndTests: XCTestCase {
    func testTheDaemonRemovesExpiredSessionsInTheBackground() async throws {
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--session-lifetime", "1", "--sweep-interval", "1"])
        defer { daemon.tearDown() }
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let listed = try await client.sessions(of: .username("alice"))
        XCTAssertEqual(listed.count, 1)
        var remaining = listed.count
        for _ in 0..<40 where remaining > 0 {
            try await Task.sleep(nanoseconds: 100_000_000)
            remaining = try await client.sessions(of: .username("alice")).count
        }
        XCTAssertEqual(remaining, 0, "the expired session was swept")
    }
}
