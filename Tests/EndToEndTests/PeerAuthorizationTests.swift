import Foundation
import XCTest

/// Peers are classified by `SO_PEERCRED` at accept: the CLI run as another uid (through
/// `setpriv`, from util-linux) is refused, or limited to the application operations.
final class PeerAuthorizationTests: XCTestCase {
    private static let nobody = "65534"
    private var daemon: DaemonProcess?
    override func tearDown() { daemon?.tearDown() }

    /// Starts the daemon with `arguments` and copies the CLI where any uid can run it. The other
    /// uid runs with the socket's group (root's) as a supplementary group, so the file mode lets
    /// it connect and the peer's class is what decides.
    private func start(_ arguments: [String]) throws -> (socket: String, cli: String) {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to run the CLI as another uid")
        }
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"] + arguments)
        self.daemon = daemon
        try daemon.start()
        XCTAssertEqual(chmod(daemon.directory, 0o755), 0)
        let cli = daemon.directory + "/tessera"
        try FileManager.default.copyItem(atPath: DaemonProcess.tessera, toPath: cli)
        XCTAssertEqual(chmod(cli, 0o755), 0)
        return (daemon.socketPath, cli)
    }

    private func asNobody(_ cli: String, _ arguments: [String], input: String? = nil) throws -> CommandResult {
        try runCommand(
            "/usr/bin/setpriv", ["--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--groups=\(getegid())", cli] + arguments,
            input: input)
    }

    func testAPeerThatIsNeitherAdminNorApplicationIsRefusedAtConnect() throws {
        // An application list that does not name this uid or group: the socket's group alone
        // no longer makes an application.
        let (socket, cli) = try start(["--app-gid", "54321"])
        let ping = try asNobody(cli, ["--socket", socket, "ping"])
        XCTAssertNotEqual(ping.status, 0)
        XCTAssertTrue(ping.stderr.contains("forbidden"), ping.stderr)
        let asRoot = try runCommand(DaemonProcess.tessera, ["--socket", socket, "ping"])
        XCTAssertEqual(asRoot.status, 0, "root is admin: \(asRoot.stderr)")
        XCTAssertTrue(daemon!.log.contains("peer.uid=65534"), "the refusal is logged with the peer's uid")
    }

    func testAnApplicationUIDGetsTheWebOperationsAndNothingElse() throws {
        let (socket, cli) = try start(["--app-uid", Self.nobody])
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["--socket", socket, "user", "add", "alice"], input: "correct horse\n").status, 0)

        let login = try asNobody(cli, ["--socket", socket, "login", "alice"], input: "correct horse\n")
        XCTAssertEqual(login.status, 0, login.stderr)
        let token = String(login.stdout.split(separator: "\n").first ?? "")
        XCTAssertEqual(try asNobody(cli, ["--socket", socket, "verify", token]).status, 0)
        let signup = try asNobody(cli, ["--socket", socket, "user", "add", "bob"], input: "correct horse\n")
        XCTAssertEqual(signup.status, 0, "sign-up is an application operation: \(signup.stderr)")

        let administrative: [([String], String?)] = [
            (["user", "passwd", "alice"], "battery staple\n"), (["user", "list"], nil), (["user", "show", "alice"], nil),
            (["user", "set-state", "alice", "disabled"], nil), (["user", "unlock", "alice"], nil), (["user", "delete", "bob"], nil),
            (["sessions", "list", "alice"], nil), (["sessions", "revoke-all", "alice"], nil),
        ]
        for (arguments, input) in administrative {
            let result = try asNobody(cli, ["--socket", socket] + arguments, input: input)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains("forbidden"), "\(arguments): \(result.stderr)")
        }
        // A clash does not tell an application which field clashed (an admin is told).
        _ = try runCommand(
            DaemonProcess.tessera, ["--socket", socket, "user", "update", "bob", "--email", "taken@example.com"])
        let clash = try asNobody(cli, ["--socket", socket, "user", "add", "carol", "--email", "taken@example.com"], input: "correct horse\n")
        XCTAssertTrue(clash.stderr.contains("conflict"), clash.stderr)
        XCTAssertFalse(clash.stderr.contains("email is already"), clash.stderr)
        let adminClash = try runCommand(
            DaemonProcess.tessera, ["--socket", socket, "user", "add", "carol", "--email", "taken@example.com"], input: "correct horse\n")
        XCTAssertTrue(adminClash.stderr.contains("email is already registered"), adminClash.stderr)

        // Nothing changed: alice's password and session, and bob, are all still there.
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["--socket", socket, "verify", token]).status, 0)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["--socket", socket, "user", "show", "bob"]).status, 0)
        let relogin = try runCommand(DaemonProcess.tessera, ["--socket", socket, "login", "alice"], input: "correct horse\n")
        XCTAssertEqual(relogin.status, 0, "the forbidden SET_PASSWORD did not change the password")
    }
}
