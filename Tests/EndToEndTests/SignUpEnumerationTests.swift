import Foundation
import TestSupport
import XCTest

/// Sign-up and "send the code again" must not tell a web process's visitors which email
/// addresses and phones have accounts (issue 22, item 10). The web process itself is a client
/// written from the spec alone: a Python child run as another uid (an application peer), timing
/// its own requests.
final class SignUpEnumerationTests: XCTestCase {
    private static let nobody = "65534"
    private var daemon: DaemonProcess?
    override func tearDown() { daemon?.tearDown() }

    private func start(_ arguments: [String]) throws -> DaemonProcess {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to run a client as another uid")
        }
        let daemon = DaemonProcess(arguments: ["--app-uid", Self.nobody] + arguments)
        self.daemon = daemon
        try daemon.start()
        XCTAssertEqual(chmod(daemon.directory, 0o755), 0)
        return daemon
    }

    /// Runs `script` as the application uid (with the socket's group) and decodes its one line
    /// of JSON.
    private func asApplication(_ script: String, _ arguments: [String]) throws -> [String: Any] {
        try run(["/usr/bin/setpriv", "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--groups=\(getegid())"], script, arguments)
    }

    /// Runs `script` as root: an administrator.
    private func asAdministrator(_ script: String, _ arguments: [String]) throws -> [String: Any] {
        try run([], script, arguments)
    }

    private func run(_ prefix: [String], _ script: String, _ arguments: [String]) throws -> [String: Any] {
        let command = prefix + ["/usr/bin/python3", "-c", Self.client + script] + arguments
        let result = try runCommand(command[0], Array(command.dropFirst()))
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
    }

    /// A sign-up whose email another account holds answers `already-registered` (not `conflict`,
    /// which names the username alone), after as long as a sign-up that creates an account: the
    /// password is hashed either way. Before, it answered `conflict` at once, ~1 % of the time.
    func testASignUpWithATakenEmailTakesAsLongAsOneThatCreatesAnAccount() throws {
        // argon2id heavy enough (~30 ms) that the hash, not fsync noise, sets the time.
        let daemon = try start(["--argon2-ops", "2", "--argon2-mem-kib", "16384"])
        let owner = try runCommand(
            DaemonProcess.tessera,
            ["--socket", daemon.socketPath, "user", "add", "owner", "--email", "taken@example.com", "--phone", "+33612345678"],
            input: "correct horse\n")
        XCTAssertEqual(owner.status, 0, owner.stderr)

        let report = try asApplication(Self.signUps, [daemon.socketPath, "60"])
        XCTAssertEqual(report["statuses"] as? [String: [Int]], ["fresh": [0], "taken": [22], "taken phone": [22], "taken name": [10]])
        let names = try XCTUnwrap(report["names"] as? [String: String])
        XCTAssertTrue(names["taken"]?.hasPrefix("already-registered: ") == true, "\(names)")
        XCTAssertFalse(names["taken"]!.contains("taken@"), "nothing about the account it clashed with")
        let medians = try XCTUnwrap(report["medians"] as? [String: Double])
        let fresh = try XCTUnwrap(medians["fresh"])
        for label in ["taken", "taken phone"] {
            let taken = try XCTUnwrap(medians[label])
            let difference = abs(taken - fresh) / max(taken, fresh)
            print("sign-up timing: median \(label) \(taken) ms, fresh \(fresh) ms, difference \(difference * 100) %")
            XCTAssertLessThan(difference, 0.15, "median \(label) \(taken) ms vs fresh \(fresh) ms")
        }
        // A taken username is public (the form must say so) and answers at once, unhashed.
        XCTAssertLessThan(try XCTUnwrap(medians["taken name"]), fresh / 4)

        // Nothing was made for a taken address; every fresh one is an account.
        let list = try runCommand(DaemonProcess.tessera, ["--socket", daemon.socketPath, "user", "list", "--json"])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertEqual(list.stdout.components(separatedBy: "\"username\"").count - 1, 1 + 60)
        XCTAssertFalse(list.stdout.contains("taken-"), list.stdout)
        // An administrator is still told which value clashed, at once.
        let admin = try runCommand(
            DaemonProcess.tessera, ["--socket", daemon.socketPath, "user", "add", "other", "--email", "taken@example.com"],
            input: "correct horse\n")
        XCTAssertTrue(admin.stderr.contains("email is already registered"), admin.stderr)
    }

    /// NEW_VALIDATION_CODE from a web process, which may name the account by its address, answers
    /// with what sending the code needs and none of the rest of the profile.
    func testANewValidationCodeForAWebProcessCarriesOnlyTheAddressee() throws {
        let daemon = try start(["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        let pending = try asAdministrator(Self.pendingSignUp, [daemon.socketPath])
        XCTAssertEqual(pending["status"] as? Int, 0)
        XCTAssertEqual(pending["user_tags"] as? [Int], [1, 2, 3, 5, 6, 7, 10, 12, 13, 15, 16], "the whole user, to an administrator")

        let report = try asApplication(Self.newCode, [daemon.socketPath, "pending@example.com"])
        XCTAssertEqual(report["status"] as? Int, 0)
        XCTAssertEqual((report["code"] as? String)?.count, 43)
        // id, username, email, created_at, state, account_type, updated_at, failed_logins: no
        // role (6), external id (12) or setting (16).
        XCTAssertEqual(report["user_tags"] as? [Int], [1, 2, 3, 5, 7, 10, 13, 15])
        let again = try asAdministrator(Self.newCode, [daemon.socketPath, "pending@example.com"])
        XCTAssertEqual(again["user_tags"] as? [Int], [1, 2, 3, 5, 6, 7, 10, 12, 13, 15, 16], "the whole user, to an administrator")
        let unknown = try asApplication(Self.newCode, [daemon.socketPath, "nobody@example.com"])
        XCTAssertEqual(unknown["status"] as? Int, 9, "not-found")
    }

    /// The spec's frames (``PythonFrames``) and a connection to the socket, `sys.argv[1]`.
    private static let client =
        PythonFrames.prelude + """
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(sys.argv[1])

            """

    /// CREATE_USER, alternating in shuffled order: a fresh username with a fresh email, with a
    /// taken email, with a taken phone, and a taken username.
    private static let signUps = """
        import random
        rounds = int(sys.argv[2])
        times, statuses, names = {}, {}, {}
        password = field(32, b"correct horse")
        for n in range(rounds):
            cases = [
                ("fresh", field(2, b"fresh-%d" % n) + field(3, b"fresh-%d@example.com" % n)),
                ("taken", field(2, b"taken-%d" % n) + field(3, b"taken@example.com")),
                ("taken phone", field(2, b"taken-phone-%d" % n) + field(8, b"+33612345678")),
                ("taken name", field(2, b"owner") + field(3, b"another-%d@example.com" % n)),
            ]
            random.shuffle(cases)
            for label, body in cases:
                started = time.perf_counter()
                status, reply = request(sock, 0x10, body + password)
                times.setdefault(label, []).append((time.perf_counter() - started) * 1000)
                statuses.setdefault(label, set()).add(status)
                if status:
                    error = dict(fields(reply))
                    names[label] = error[1].decode() + ": " + error[2].decode()
        print(json.dumps({
            "medians": {k: sorted(v)[len(v) // 2] for k, v in times.items()},
            "statuses": {k: sorted(v) for k, v in statuses.items()},
            "names": names,
        }))
        """

    /// CREATE_USER of an unvalidated account with roles, an external id and a setting: the
    /// status and the tags of the USER in the reply.
    private static let pendingSignUp = """
        body = (field(2, b"pending") + field(3, b"pending@example.com") + field(6, b"editor") + field(12, b"scim-7")
                + field(16, field(1, b"theme") + field(2, b"dark")) + field(32, b"correct horse") + field(33, b"\\x01"))
        status, reply = request(sock, 0x10, body)
        print(json.dumps({"status": status, "user_tags": [tag for tag, _ in fields(dict(fields(reply))[1])] if status == 0 else None}))
        """

    /// NEW_VALIDATION_CODE by email: the status, the code and the tags of the USER it carries.
    private static let newCode = """
        status, reply = request(sock, 0x1A, field(3, sys.argv[2].encode()))
        top = dict(fields(reply))
        print(json.dumps({
            "status": status,
            "code": top[2].decode() if status == 0 else None,
            "user_tags": [tag for tag, _ in fields(top[1])] if status == 0 else None,
        }))
        """
}
