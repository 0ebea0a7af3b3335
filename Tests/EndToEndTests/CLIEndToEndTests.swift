import Foundation
import TestSupport
import XCTest

/// The `tessera` CLI against the real daemon.
final class CLIEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func setUpWithError() throws {
        daemon = DaemonProcess()
        try daemon.start()
    }
    override func tearDown() { daemon.tearDown() }

    private func tessera(_ arguments: [String], input: String? = nil) throws -> CommandResult {
        try runCommand(DaemonProcess.tessera, arguments + ["--socket", daemon.socketPath], input: input)
    }

    func testUserLoginVerifyLogoutRoundTrip() throws {
        let add = try tessera(
            ["user", "add", "alice", "--email", "alice@example.com", "--name", "Alice", "--role", "admin"], input: "correct horse\n")
        XCTAssertEqual(add.status, 0, add.stderr)
        XCTAssertTrue(add.stdout.contains("username: alice"))

        let show = try tessera(["user", "show", "alice", "--json"])
        XCTAssertEqual(show.status, 0, show.stderr)
        let user = try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(user["username"] as? String, "alice")
        XCTAssertEqual(user["email"] as? String, "alice@example.com")
        XCTAssertEqual(user["roles"] as? [String], ["admin"])

        let login = try tessera(["login", "alice", "--json"], input: "correct horse\n")
        XCTAssertEqual(login.status, 0, login.stderr)
        let reply = try JSONSerialization.jsonObject(with: Data(login.stdout.utf8)) as! [String: Any]
        let token = try XCTUnwrap(reply["token"] as? String)
        XCTAssertEqual(token.count, 68)
        XCTAssertNotNil(reply["expires_at"] as? String)

        let verify = try tessera(["verify", token])
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stdout.hasPrefix("valid: user 1"))

        let viaStdin = try tessera(["verify", "-"], input: token + "\n")
        XCTAssertEqual(viaStdin.status, 0, viaStdin.stderr)
        let byDefault = try tessera(["verify"], input: token + "\n")
        XCTAssertEqual(byDefault.status, 0, "no argument: the token comes from standard input: \(byDefault.stderr)")
        let nothing = try tessera(["verify"], input: "")
        XCTAssertNotEqual(nothing.status, 0)
        XCTAssertTrue(nothing.stderr.contains("no token on standard input"), nothing.stderr)

        XCTAssertEqual(try tessera(["logout", token]).status, 0)
        let rejected = try tessera(["verify", token])
        XCTAssertNotEqual(rejected.status, 0)
        XCTAssertEqual(rejected.stderr.split(separator: "\n").count, 1, "one line: \(rejected.stderr)")
        XCTAssertTrue(rejected.stderr.contains("token-invalid"))
    }

    func testFailuresPrintOneLineAndExitNonZero() throws {
        XCTAssertEqual(try tessera(["user", "add", "alice"], input: "correct horse\n").status, 0)
        let cases: [([String], String?, String)] = [
            (["login", "alice"], "wrong password\n", "bad-credentials"),
            (["user", "add", "alice"], "correct horse\n", "conflict"),
            (["user", "show", "nobody"], nil, "not-found"),
            (["verify", "garbage"], nil, "token-invalid"),
            (["user", "add", "bob"], "", "no password"),
        ]
        for (arguments, input, expected) in cases {
            let result = try tessera(arguments, input: input)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        let json = try tessera(["verify", "garbage", "--json"])
        XCTAssertNotEqual(json.status, 0)
        let error = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(error["error"] as? String, "token-invalid")
    }

    func testPingAndUnreachableDaemon() throws {
        let ping = try tessera(["ping"])
        XCTAssertEqual(ping.status, 0)
        XCTAssertTrue(ping.stdout.contains("tesserad/"))
        let missing = try runCommand(DaemonProcess.tessera, ["ping", "--socket", daemon.directory + "/nope.sock"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("cannot connect"), missing.stderr)
    }

    func testGlobalOptionsGoBeforeOrAfterTheCommand() throws {
        let socket = daemon.socketPath
        for arguments in [
            ["--socket", socket, "ping"], ["ping", "--socket", socket], ["--socket", socket, "--json", "ping"],
            ["--json", "--socket", socket, "user", "list"], ["user", "--socket", socket, "list"],
        ] {
            let result = try runCommand(DaemonProcess.tessera, arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
        }
        let json = try runCommand(DaemonProcess.tessera, ["--json", "--socket", socket, "ping"])
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], json.stdout)
    }

    /// `docs/CLI.md`'s example block, run as written against this daemon (its socket path put in
    /// place of `./tessera.sock`, the built `tessera` first on `PATH`).
    func testReadmeExamplesRun() throws {
        let readme = try String(contentsOfFile: Self.repositoryRoot + "/docs/CLI.md", encoding: .utf8)
        let marker = "CLIEndToEndTests.testReadmeExamplesRun"
        let afterMarker = try XCTUnwrap(readme.range(of: marker).map { readme[$0.upperBound...] }, "the README lost its tested block")
        let start = try XCTUnwrap(afterMarker.range(of: "```sh\n"))
        let end = try XCTUnwrap(afterMarker[start.upperBound...].range(of: "```"))
        let block = String(afterMarker[start.upperBound..<end.lowerBound])
        XCTAssertTrue(block.contains("tessera --socket ./tessera.sock"))
        let script = "set -euo pipefail\n" + block.replacingOccurrences(of: "./tessera.sock", with: daemon.socketPath)
        let path = productsDirectory.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
        let result = try runCommand("/usr/bin/env", ["PATH=\(path)", "bash", "-c", script])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("valid: user 1"), result.stdout)
        XCTAssertTrue(result.stdout.contains("\"username\":\"alice\""), result.stdout)
        XCTAssertTrue(result.stdout.contains("logged out"), result.stdout)
    }

    /// The README's quick start, with temporary paths for `/run/tessera` and `/var/lib/tessera`
    /// and the built binaries for `.build/release` (the test suite builds in debug).
    func testReadmeQuickStartRuns() throws {
        let readme = try String(contentsOfFile: Self.repositoryRoot + "/README.md", encoding: .utf8)
        let marker = "CLIEndToEndTests.testReadmeQuickStartRuns"
        let afterMarker = try XCTUnwrap(readme.range(of: marker).map { readme[$0.upperBound...] }, "the README lost its tested block")
        let start = try XCTUnwrap(afterMarker.range(of: "```sh\n"))
        let end = try XCTUnwrap(afterMarker[start.upperBound...].range(of: "```"))
        var block = String(afterMarker[start.upperBound..<end.lowerBound])
        XCTAssertTrue(block.hasPrefix("swift build -c release\n"))
        block = String(block.dropFirst("swift build -c release\n".count))
        let root = daemon.directory + "/quickstart"
        block = block.replacingOccurrences(of: ".build/release/", with: productsDirectory.path + "/")
            .replacingOccurrences(of: "/run/tessera", with: root + "/run")
            .replacingOccurrences(of: "/var/lib/tessera", with: root + "/data")
            .replacingOccurrences(of: "tesserad --socket", with: "tesserad --argon2-ops 1 --argon2-mem-kib 64 --socket")
        let result = try runCommand("/bin/bash", ["-c", "set -euo pipefail\n" + block + "wait\n"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("valid: user 1"), result.stdout)
        XCTAssertTrue(result.stdout.contains("logged out"), result.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root + "/run/tessera.sock"), "the daemon stopped cleanly")
    }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    func testPasswordNeverOnTheCommandLine() throws {
        let help = try runCommand(DaemonProcess.tessera, ["user", "add", "--help"])
        XCTAssertFalse(help.stdout.contains("--password"))
        XCTAssertTrue(help.stdout.contains("standard input"))
    }
}
