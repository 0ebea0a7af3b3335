import Foundation
import TestSupport
import XCTest

/// `tesserad --user --group --socket-group` (issue 22, item 17): started as root, the daemon binds
/// its socket in the socket group with mode 0660, then becomes the service account for good
/// before it reads the master key or opens the data.
final class ServiceAccountTests: XCTestCase {
    private var daemon: DaemonProcess?
    override func tearDown() { daemon?.tearDown() }

    private static let nobody: UInt32 = 65534
    private static let socketGroup: UInt32 = 4243

    func testStartedAsRootTheDaemonBindsThenBecomesTheServiceAccount() throws {
        guard getuid() == 0 else { throw XCTSkip("needs root to start the daemon as root") }
        let daemon = DaemonProcess(
            arguments: [
                "--argon2-ops", "1", "--argon2-mem-kib", "64", "--user", "\(Self.nobody)", "--group", "\(Self.nobody)",
                "--socket-group", "\(Self.socketGroup)",
            ])
        self.daemon = daemon
        // The service account owns where its data and key go; the test's log stays root's.
        XCTAssertEqual(chown(daemon.directory, Self.nobody, Self.nobody), 0)
        XCTAssertEqual(chmod(daemon.directory, 0o755), 0, "the web process reaches the socket")
        try daemon.start()

        // Nothing of root is left: every uid and gid is the account's, and its one group.
        let pid = try XCTUnwrap(daemon.process).processIdentifier
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        func line(_ name: String) -> [String] {
            status.split(separator: "\n").first { $0.hasPrefix(name + ":") }.map {
                $0.dropFirst(name.count + 1).split(whereSeparator: \.isWhitespace).map(String.init)
            } ?? []
        }
        XCTAssertEqual(line("Uid"), Array(repeating: "\(Self.nobody)", count: 4))
        XCTAssertEqual(line("Gid"), Array(repeating: "\(Self.nobody)", count: 4))
        XCTAssertEqual(line("Groups"), ["\(Self.nobody)"])
        XCTAssertEqual(line("CapEff"), ["0000000000000000"])

        // The socket was made in the socket group with mode 0660; the key and the data are the account's.
        var socket = stat()
        XCTAssertEqual(lstat(daemon.socketPath, &socket), 0)
        XCTAssertEqual(socket.st_gid, Self.socketGroup)
        XCTAssertEqual(socket.st_uid, 0, "bound while root")
        XCTAssertEqual(socket.st_mode & 0o777, 0o660)
        for file in [daemon.dataPath + "/data.mdb", daemon.directory + "/tessera-master.key"] {
            var info = stat()
            XCTAssertEqual(stat(file, &info), 0, file)
            XCTAssertEqual(info.st_uid, Self.nobody, file)
        }

        // Root is an administrator; a member of the socket group (no --app-uid or --app-gid) is
        // a web process: it signs up and logs in, and is refused an administrator's operation.
        let ping = try runCommand(DaemonProcess.tessera, ["--socket", daemon.socketPath, "user", "list"])
        XCTAssertEqual(ping.status, 0, ping.stderr)
        let script =
            PythonFrames.prelude + """
                os.setgroups([\(Self.socketGroup)]); os.setgid(65533); os.setuid(65533)
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.connect(sys.argv[1])
                signup, _ = request(sock, 0x10, field(2, b"web") + field(32, b"correct horse"))
                listing, _ = request(sock, 0x18, b"")
                print(json.dumps({"signup": signup, "list_users": listing}))
                """
        let web = try runCommand("/usr/bin/python3", ["-c", script, daemon.socketPath])
        XCTAssertEqual(web.status, 0, web.stderr)
        XCTAssertEqual(web.stdout.trimmingCharacters(in: .whitespacesAndNewlines), #"{"signup": 0, "list_users": 19}"#)
        XCTAssertTrue(daemon.log.contains("running as uid \(Self.nobody) gid \(Self.nobody)"), daemon.log)
    }

    /// A daemon that is not root cannot become another user, nor make its socket another
    /// group's: it says so and leaves no socket behind.
    func testWithoutRootUserAndSocketGroupAreRefusedWithTheReason() throws {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") else {
            throw XCTSkip("needs root and setpriv to start the daemon as another uid")
        }
        let directory = TemporaryDirectory("tessera-identity", in: "/tmp")
        XCTAssertEqual(chown(directory.path, Self.nobody, Self.nobody), 0)
        let daemon = try copiedWhereAnyoneRunsIt(DaemonProcess.tesserad, into: directory.path)
        let socket = directory.path + "/t.sock"
        for (extra, reason) in [
            (["--user", "0"], "--user needs the daemon started as root"),
            (["--socket-group", "\(Self.socketGroup)"], "only root may make the socket file another group's"),
        ] {
            let result = try runCommand(
                "/usr/bin/setpriv",
                [
                    "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--clear-groups", daemon, "--socket", socket, "--data",
                    directory.path + "/data",
                ]
                    + extra)
            XCTAssertNotEqual(result.status, 0, "\(extra)")
            XCTAssertTrue(result.stderr.contains(reason), "\(extra): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: socket), "\(extra): no socket left behind")
        }
    }

    private func copiedWhereAnyoneRunsIt(_ program: String, into directory: String) throws -> String {
        let copy = directory + "/" + URL(fileURLWithPath: program).lastPathComponent
        try FileManager.default.copyItem(atPath: program, toPath: copy)
        XCTAssertEqual(chmod(copy, 0o755), 0)
        return copy
    }
}
