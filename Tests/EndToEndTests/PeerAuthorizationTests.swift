import Foundation
import TestSupport
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

    /// A web process's sign-up gets the administrator's `--signup-roles` and nothing it asks
    /// for; an administrator's CREATE_USER gets exactly the roles it sends.
    func testASignUpFromAWebProcessGetsTheConfiguredRoles() throws {
        let (socket, cli) = try start(["--app-uid", Self.nobody, "--signup-roles", "member,reader", "--signup-roles", "beta"])
        let signup = try asNobody(cli, ["--socket", socket, "user", "add", "carol"], input: "correct horse\n")
        XCTAssertEqual(signup.status, 0, signup.stderr)
        let escalation = try asNobody(cli, ["--socket", socket, "user", "add", "trudy", "--role", "admin"], input: "correct horse\n")
        XCTAssertTrue(escalation.stderr.contains("forbidden"), escalation.stderr)
        XCTAssertEqual(
            try runCommand(DaemonProcess.tessera, ["--socket", socket, "user", "add", "dave", "--role", "admin"], input: "correct horse\n").status, 0)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["--socket", socket, "user", "add", "erin"], input: "correct horse\n").status, 0)
        func roles(_ name: String) throws -> String {
            let shown = try runCommand(DaemonProcess.tessera, ["--socket", socket, "user", "show", name])
            return shown.stdout.split(separator: "\n").first { $0.hasPrefix("roles:") }.map {
                String($0.dropFirst(6)).trimmingCharacters(in: .whitespaces)
            } ?? ""
        }
        XCTAssertEqual(try roles("carol"), "member, reader, beta")
        XCTAssertEqual(try roles("dave"), "admin", "an administrator's roles, not the sign-up ones")
        XCTAssertEqual(try roles("erin"), "", "an administrator who sends none gets none")

        let bad = try runCommand(
            DaemonProcess.tesserad, ["--socket", socket + "2", "--data", daemon!.directory + "/d2", "--signup-roles", "has space"])
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("--signup-roles"), bad.stderr)
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
        // Sign-up cannot mint an administrator: roles and the rest are an administrator's.
        for extra in [["--role", "admin"], ["--service"]] {
            let escalation = try asNobody(cli, ["--socket", socket, "user", "add", "trudy"] + extra, input: "correct horse\n")
            XCTAssertNotEqual(escalation.status, 0, "\(extra)")
            XCTAssertTrue(escalation.stderr.contains("forbidden"), "\(extra): \(escalation.stderr)")
        }
        let trudy = try runCommand(DaemonProcess.tessera, ["--socket", socket, "user", "show", "trudy"])
        XCTAssertTrue(trudy.stderr.contains("not-found"), "no account was made: \(trudy.stderr)")

        let administrative: [([String], String?)] = [
            (["user", "passwd", "alice"], "battery staple\n"), (["user", "list"], nil), (["user", "show", "alice"], nil),
            (["user", "set-state", "alice", "disabled"], nil), (["user", "unlock", "alice"], nil), (["user", "delete", "bob"], nil),
            (["sessions", "list", "alice"], nil), (["sessions", "revoke-all", "alice"], nil), (["keys", "list"], nil),
            (["keys", "rotate"], nil), (["keys", "retire", "1", "--yes"], nil), (["2fa", "status", "alice"], nil), (["2fa", "reset", "alice"], nil),
            (["apikey", "create", "alice", "ci"], nil), (["apikey", "list", "alice"], nil),
            (["apikey", "revoke", "0123456789abcdef0123456789abcdef"], nil),
        ]
        for (arguments, input) in administrative {
            let result = try asNobody(cli, ["--socket", socket] + arguments, input: input)
            XCTAssertNotEqual(result.status, 0, "\(arguments)")
            XCTAssertTrue(result.stderr.contains("forbidden"), "\(arguments): \(result.stderr)")
        }
        // A taken address is already-registered for an application, not a conflict naming it
        // (an admin is told which value clashed).
        _ = try runCommand(
            DaemonProcess.tessera, ["--socket", socket, "user", "update", "bob", "--email", "taken@example.com"])
        let clash = try asNobody(cli, ["--socket", socket, "user", "add", "carol", "--email", "taken@example.com"], input: "correct horse\n")
        XCTAssertTrue(clash.stderr.contains("already-registered"), clash.stderr)
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

    /// A session token alone does not make an API key from a web process: the user's password
    /// comes with it, checked under the lock like a login's (issue 22, item 4).
    func testAnApplicationMakesAKeyOnlyWithTheUsersPassword() throws {
        let (socket, cli) = try start(["--app-uid", Self.nobody, "--lockout-threshold", "3"])
        let at = ["--socket", socket]
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, at + ["user", "add", "alice"], input: "correct horse\n").status, 0)
        let login = try asNobody(cli, at + ["login", "alice"], input: "correct horse\n")
        XCTAssertEqual(login.status, 0, login.stderr)
        let token = String(login.stdout.split(separator: "\n").first ?? "")

        let stolen = try asNobody(cli, at + ["apikey", "create", "--self", "ci"], input: token + "\nguess\n")
        XCTAssertNotEqual(stolen.status, 0)
        XCTAssertTrue(stolen.stderr.contains("bad-credentials"), stolen.stderr)
        let made = try asNobody(cli, at + ["apikey", "create", "--self", "ci", "--json"], input: token + "\ncorrect horse\n")
        XCTAssertEqual(made.status, 0, made.stderr)
        let key = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])?["key"] as? String)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, at + ["verify"], input: key + "\n").status, 0, "the key works")
        let admin = try runCommand(DaemonProcess.tessera, at + ["apikey", "list", "alice"])
        XCTAssertEqual(admin.stdout.split(separator: "\n").count, 1, "one key: \(admin.stdout)")
        // Three wrong passwords lock the account: the right one is then refused unchecked.
        for _ in 0..<3 { _ = try asNobody(cli, at + ["apikey", "create", "--self", "ci"], input: token + "\nguess\n") }
        let locked = try asNobody(cli, at + ["apikey", "create", "--self", "ci"], input: token + "\ncorrect horse\n")
        XCTAssertTrue(locked.stderr.contains("locked"), locked.stderr)
    }

    /// GET_USER, UPDATE_USER, LIST_SESSIONS and REVOKE_SESSION from an application peer: only
    /// for the user of a session token the request carries, and only what users may change
    /// about themselves.
    func testAnApplicationActsOnlyOnTheUserOfItsSessionToken() throws {
        let (socket, cli) = try start(["--app-uid", Self.nobody])
        let at = ["--socket", socket]
        for name in ["alice", "bob"] {
            XCTAssertEqual(try runCommand(DaemonProcess.tessera, at + ["user", "add", name], input: "correct horse\n").status, 0)
        }
        func login(_ name: String) throws -> String {
            let login = try asNobody(cli, at + ["login", name], input: "correct horse\n")
            XCTAssertEqual(login.status, 0, login.stderr)
            return String(login.stdout.split(separator: "\n").first ?? "")
        }
        let alice = try login("alice")
        let aliceElsewhere = try login("alice")
        let bob = try login("bob")
        func sessionIDs(_ token: String) throws -> [String] {
            let list = try asNobody(cli, at + ["sessions", "list", "--self", "--json"], input: token + "\n")
            XCTAssertEqual(list.status, 0, list.stderr)
            let sessions = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as! [String: Any])["sessions"] as! [[String: Any]]
            return sessions.map { $0["id"] as! String }
        }

        let whoami = try asNobody(cli, at + ["user", "show", "--self", "--json"], input: alice + "\n")
        XCTAssertEqual(whoami.status, 0, whoami.stderr)
        XCTAssertTrue(whoami.stdout.contains("\"username\":\"alice\""), whoami.stdout)
        let renamed = try asNobody(cli, at + ["user", "update", "--self", "--name", "Alice A", "--json"], input: alice + "\n")
        XCTAssertEqual(renamed.status, 0, renamed.stderr)
        XCTAssertTrue(renamed.stdout.contains("Alice A"), renamed.stdout)
        let promoted = try asNobody(cli, at + ["user", "update", "--self", "--role", "admin"], input: alice + "\n")
        XCTAssertTrue(promoted.stderr.contains("forbidden"), "roles are an administrator's: \(promoted.stderr)")
        let titled = try asNobody(cli, at + ["user", "update", "--self", "--attribute", "title=Dr", "--json"], input: alice + "\n")
        XCTAssertEqual(titled.status, 0, "attributes are the user's own: \(titled.stderr)")
        XCTAssertTrue(titled.stdout.contains(#""attributes":{"title":"Dr"}"#), titled.stdout)
        let others = try asNobody(cli, at + ["user", "update", "bob", "--attribute", "title=Dr"])
        XCTAssertTrue(others.stderr.contains("forbidden"), "another user's attributes are not the application's: \(others.stderr)")

        let mine = try sessionIDs(alice)
        XCTAssertEqual(mine.count, 2)
        let bobs = try sessionIDs(bob)
        XCTAssertEqual(bobs.count, 1)
        let other = try asNobody(cli, at + ["sessions", "revoke", "--self", bobs[0]], input: alice + "\n")
        XCTAssertTrue(other.stderr.contains("not-found"), "another user's session is not alice's to end: \(other.stderr)")
        let bare = try asNobody(cli, at + ["sessions", "revoke", mine[0]])
        XCTAssertTrue(bare.stderr.contains("forbidden"), "without a session token: \(bare.stderr)")
        let elsewhereID = try XCTUnwrap(
            mine.first { id in
                (try? runCommand(DaemonProcess.tessera, at + ["verify", "--json"], input: aliceElsewhere + "\n").stdout.contains(id)) ?? false
            })
        let signedOut = try asNobody(cli, at + ["sessions", "revoke", "--self", elsewhereID], input: alice + "\n")
        XCTAssertEqual(signedOut.status, 0, signedOut.stderr)
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, at + ["verify"], input: aliceElsewhere + "\n").status, 0)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, at + ["verify"], input: bob + "\n").status, 0, "bob's session is untouched")

        XCTAssertEqual(try asNobody(cli, at + ["logout"], input: alice + "\n").status, 0)
        let stale = try asNobody(cli, at + ["user", "show", "--self"], input: alice + "\n")
        XCTAssertTrue(stale.stderr.contains("token-invalid"), "a token that is not live names nobody: \(stale.stderr)")
        let admin = try runCommand(DaemonProcess.tessera, at + ["user", "show", "alice", "--json"])
        XCTAssertTrue(admin.stdout.contains("\"roles\":[]"), "the refused update changed nothing: \(admin.stdout)")
    }

    /// The peer lists from `--config`: the file names the application uid.
    func testTheApplicationListComesFromTheConfigurationFile() throws {
        let configuration = TemporaryDirectory("tesserad-config")
        defer { configuration.remove() }
        let file = configuration.file("tesserad.toml")
        try "# web processes\napp-uid = [\(Self.nobody)]\n".write(toFile: file, atomically: true, encoding: .utf8)
        let (socket, cli) = try start(["--config", file])
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["--socket", socket, "user", "add", "alice"], input: "correct horse\n").status, 0)
        let login = try asNobody(cli, ["--socket", socket, "login", "alice"], input: "correct horse\n")
        XCTAssertEqual(login.status, 0, "an application by the file's list: \(login.stderr)")
        let list = try asNobody(cli, ["--socket", socket, "user", "list"])
        XCTAssertTrue(list.stderr.contains("forbidden"), list.stderr)
    }

    /// The audit's finding: one web process holding every connection locked out the other web
    /// processes and the administrator's CLI. Three peers hold connections at once (a forked
    /// child per uid, each pinging on every connection it opens): one application uid gets its
    /// quota, another the rest of the non-admin share, root the reserve.
    func testOneUIDCannotTakeEveryConnectionAndAdministratorsKeepTheirReserve() throws {
        let (socket, _) = try start([
            "--app-uid", Self.nobody, "--app-uid", "65533", "--max-connections", "12", "--admin-connections", "2",
            "--max-connections-per-uid", "6",
        ])
        let held = try runCommand("/usr/bin/python3", ["-c", Self.holdConnections, socket, "\(Self.nobody):8", "65533:5", "0:3"])
        XCTAssertEqual(held.status, 0, held.stderr)
        XCTAssertEqual(
            held.stdout.split(separator: "\n").map(String.init),
            ["\(Self.nobody): 6 served, 2 busy", "65533: 4 served, 1 busy", "0: 2 served, 1 busy"])
    }

    /// For each `UID:COUNT` argument, a child process of that uid (with root's group, so the
    /// socket's mode lets it connect) opens COUNT connections and pings on each, keeping the
    /// ones served open until every child has reported.
    private static let holdConnections =
        PythonFrames.prelude + """
            path, holders = sys.argv[1], []
            for spec in sys.argv[2:]:
                uid, count = map(int, spec.split(":"))
                report_r, report_w = os.pipe()
                hold_r, hold_w = os.pipe()
                if os.fork() == 0:
                    os.close(report_r); os.close(hold_w)
                    if uid != 0:
                        os.setgroups([0]); os.setgid(uid); os.setuid(uid)
                    served, busy, kept = 0, 0, []
                    for _ in range(count):
                        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                        sock.connect(path)
                        if request(sock, 0x02, b"")[0] == 0:
                            served += 1; kept.append(sock)
                        else:
                            busy += 1; sock.close()
                    os.write(report_w, f"{uid}: {served} served, {busy} busy\\n".encode())
                    os.read(hold_r, 1)
                    os._exit(0)
                os.close(report_w); os.close(hold_r)
                print(os.read(report_r, 200).decode().strip(), flush=True)
                holders.append(hold_w)
            for hold in holders:
                os.close(hold)
            while True:
                try: os.wait()
                except ChildProcessError: break
            """
}
