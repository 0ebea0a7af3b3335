import Foundation
import Locking
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Key rotation through the real daemon and the CLI: nobody is logged out, a retired key's
/// tokens are refused at once, and a crash never leaves other than one active key.
final class KeysEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private func tessera(_ arguments: [String], input: String? = nil) throws -> CommandResult {
        try runCommand(DaemonProcess.tessera, ["--socket", daemon.socketPath] + arguments, input: input)
    }

    /// The token-digest keys, from `tessera keys list --json`.
    private func keys() throws -> [[String: Any]] {
        let list = try tessera(["keys", "list", "--json"])
        XCTAssertEqual(list.status, 0, list.stderr)
        let all = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [String: Any])["keys"] as! [[String: Any]]
        XCTAssertEqual(all.filter { $0["purpose"] as? String == "jwt-signing" && $0["state"] as? String == "active" }.count, 1)
        return all.filter { $0["purpose"] as? String == "token-digest" }
    }

    private static func keyID(_ token: String) -> Int {
        let bytes = Array(Data(base64Encoded: token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/") + "=")!)
        return Int(bytes[1]) << 8 | Int(bytes[2])
    }

    func testARotationLogsNobodyOutAndARetiredKeyIsRefusedAtOnce() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let registration = try await client.register(
            NewUser(username: "bob", password: Array("correct horse".utf8), unvalidated: true))
        let before = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        XCTAssertEqual(try keys().map { $0["state"] as? String }, ["active"])

        let rotate = try tessera(["keys", "rotate"])
        XCTAssertEqual(rotate.status, 0, rotate.stderr)
        XCTAssertEqual(try keys().map { $0["state"] as? String }, ["verify-only", "active"])
        XCTAssertEqual(try tessera(["verify"], input: before.token + "\n").status, 0, "a token made before the rotation still verifies")
        let after = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let active = try XCTUnwrap(try keys().last?["id"] as? Int)
        XCTAssertEqual(Self.keyID(after.token), active, "new tokens name the new key")
        XCTAssertGreaterThan(active, Self.keyID(before.token))
        let renewed = try await client.refresh(refreshToken: before.refreshToken)
        XCTAssertEqual(Self.keyID(renewed.refreshToken), Self.keyID(after.token), "the family survived and moved to the new key")
        _ = try await client.validate(code: try XCTUnwrap(registration.validationCode))

        let refused = try tessera(["keys", "retire", "\(Self.keyID(before.token))"], input: "no\n")
        XCTAssertNotEqual(refused.status, 0, "retiring asks first")
        XCTAssertEqual(try keys().first?["state"] as? String, "verify-only")
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8))  // one more live session under the new key
        let old = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        _ = try tessera(["keys", "rotate"])
        let retire = try tessera(["keys", "retire", "\(Self.keyID(old.token))", "--yes", "--json"])
        XCTAssertEqual(retire.status, 0, retire.stderr)
        XCTAssertTrue(retire.stdout.contains("\"sessions_ended\":4"), retire.stdout)
        XCTAssertNotEqual(try tessera(["verify"], input: old.token + "\n").status, 0, "refused at once")
        XCTAssertNotEqual(try tessera(["verify"], input: renewed.token + "\n").status, 0)
        XCTAssertEqual(try keys().map { $0["state"] as? String }, ["verify-only", "retired", "active"])
        await client.close()
    }

    /// Verifies running flat out on four connections while the keys rotate 20 times: every
    /// reply is a success.
    func testVerifiesThroughTwentyRotationsSeeNoError() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        var tokens: [String] = []
        for _ in 0..<4 { tokens.append(try await client.login(identifier: "alice", password: Array("correct horse".utf8)).token) }
        let (socketPath, load) = (daemon.socketPath, tokens)
        async let verified = Self.verifyUntilStopped(tokens: load, socketPath: socketPath)
        for round in 0..<20 {
            let rotated = try await client.rotateKey()
            // The load runs on under the new ring before the next rotation.
            let mark = Self.successes.withLock { $0 }
            while Self.successes.withLock({ $0 }) < mark + 50 { await Task.yield() }
            // Tokens made under each new key join the load.
            let fresh = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
            _ = try await client.verify(token: fresh.token)
            XCTAssertEqual(Self.keyID(fresh.token), Int(rotated.id), "round \(round)")
        }
        Self.stop.withLock { $0 = true }
        let (successes, failures) = try await verified
        XCTAssertEqual(failures, [])
        XCTAssertGreaterThanOrEqual(successes, 20 * 50, "the load ran through the rotations")
        XCTAssertEqual(try keys().filter { $0["state"] as? String == "active" }.count, 1)
        await client.close()
    }

    private static let stop = Locked(false)
    private static let successes = Locked(0)

    private static func rotate(times: Int, socketPath: String) async {
        let client = TesseraClient(socketPath: socketPath)
        for _ in 0..<times { _ = try? await client.rotateKey() }
    }

    private static func verifyUntilStopped(tokens: [String], socketPath: String) async throws -> (Int, [String]) {
        stop.withLock { $0 = false }
        successes.withLock { $0 = 0 }
        return try await withThrowingTaskGroup(of: (Int, [String]).self) { group in
            for token in tokens {
                group.addTask {
                    let client = TesseraClient(socketPath: socketPath)
                    var successes = 0
                    var failures: [String] = []
                    while !stop.withLock({ $0 }) {
                        do {
                            _ = try await client.verify(token: token)
                            successes += 1
                            Self.successes.withLock { $0 += 1 }
                        } catch {
                            failures.append("\(error)")
                        }
                    }
                    await client.close()
                    return (successes, failures)
                }
            }
            return try await group.reduce(into: (0, [String]())) {
                $0.0 += $1.0
                $0.1 += $1.1
            }
        }
    }

    /// `kill -9` at a random moment of a rotation, 20 times: the ring on disk always has
    /// exactly one active key, and every token made under a key that survived still verifies.
    func testAKillDuringARotationLeavesExactlyOneActiveKey() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        await client.close()
        var generator = SystemRandomNumberGenerator()
        for round in 0..<20 {
            let pid = try XCTUnwrap(daemon.process?.processIdentifier)
            let (delay, socketPath) = (UInt32.random(in: 0...4000, using: &generator), daemon.socketPath)
            async let rotations: Void = Self.rotate(times: 5, socketPath: socketPath)
            usleep(delay)
            kill(pid, SIGKILL)
            await rotations
            daemon.stop()
            try daemon.start()
            let states = try keys().map { $0["state"] as? String }
            XCTAssertEqual(states.filter { $0 == "active" }.count, 1, "round \(round): \(states)")
            XCTAssertEqual(states.last, "active", "the newest key is the active one")
        }
        XCTAssertEqual(try tessera(["verify"], input: login.token + "\n").status, 0, "the first key is still verify-only")
    }

    /// The master key: created beside the data directory (0600) on first start; the data directory
    /// alone does not start a daemon; rotate-master seals under a new file, which the daemon
    /// then needs.
    func testTheMasterKeyFileIsNeededAndRotates() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        let keyFile = daemon.directory + "/tessera-master.key"
        var attributes = stat()
        XCTAssertEqual(stat(keyFile, &attributes), 0, "created beside the data directory")
        XCTAssertEqual(attributes.st_mode & 0o777, 0o600)
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        await client.close()

        // A copy of the data directory, without the key file: the daemon refuses to start.
        daemon.stop()
        let elsewhere = daemon.directory + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: daemon.dataPath, toPath: elsewhere + "/data")
        let stolen = try runCommand(DaemonProcess.tesserad, ["--socket", elsewhere + "/t.sock", "--data", elsewhere + "/data"])
        XCTAssertNotEqual(stolen.status, 0)
        XCTAssertTrue(stolen.stderr.contains("master key file \(elsewhere)/tessera-master.key is missing"), stolen.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: elsewhere + "/tessera-master.key"), "never a new key for sealed data")
        let otherKey = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() + "\n"
        try otherKey.write(toFile: elsewhere + "/tessera-master.key", atomically: true, encoding: .utf8)
        let wrong = try runCommand(DaemonProcess.tesserad, ["--socket", elsewhere + "/t.sock", "--data", elsewhere + "/data"])
        XCTAssertTrue(wrong.stderr.contains("sealed under another master key"), wrong.stderr)

        try daemon.start()
        // A relative path is the CLI's: the daemon refuses one (its working directory is its own).
        let client2 = TesseraClient(socketPath: daemon.socketPath)
        do {
            _ = try await client2.rotateMasterKey(newKeyFile: "master-2.key")
            XCTFail("a relative path was accepted")
        } catch TesseraClientError.server(let error) {
            XCTAssertEqual(error.name, "invalid-argument")
            XCTAssertTrue(error.message.contains("absolute"), error.message)
        }
        await client2.close()
        let newKey = daemon.directory + "/master-2.key"
        let rotate = try runCommand(
            DaemonProcess.tessera, ["--socket", daemon.socketPath, "keys", "rotate-master", "--new-master-key", "master-2.key"],
            currentDirectory: daemon.directory)
        XCTAssertEqual(rotate.status, 0, rotate.stderr)
        XCTAssertTrue(rotate.stdout.contains("3 key(s) sealed"), "the token-digest, JWT signing and secret-sealing keys: \(rotate.stdout)")
        XCTAssertEqual(try tessera(["keys", "rotate"]).status, 0, "the daemon goes on under the new master key")
        daemon.stop()
        XCTAssertNotEqual(try runCommand(DaemonProcess.tesserad, ["--socket", daemon.socketPath, "--data", daemon.dataPath]).status, 0)
        daemon.extraArguments += ["--master-key", newKey]
        try daemon.start()
        XCTAssertEqual(try tessera(["verify"], input: login.token + "\n").status, 0, "tokens survive the master key's rotation")
        XCTAssertEqual(try keys().map { $0["state"] as? String }, ["verify-only", "active"])
    }
}
