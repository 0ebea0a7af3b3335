import Foundation
import TesseraProtocol
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The daemon as a process: one per data directory, SIGHUP drains, no core dumps, standard
/// descriptors never taken by its own files.
final class ProcessHygieneTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    func testASecondDaemonOnTheSameDataDirectoryRefusesToStart() throws {
        daemon = DaemonProcess()
        try daemon.start()
        let second = try runCommand(
            DaemonProcess.tesserad,
            ["--socket", daemon.directory + "/second.sock", "--data", daemon.dataPath, "--master-key", daemon.directory + "/tessera-master.key"])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.stderr.contains("another process has \(daemon.dataPath) open"), second.stderr)
        XCTAssertTrue(RawConnection.canConnect(daemon.socketPath), "the first one serves on")
    }

    /// No program the daemon's process might start could inherit a database file, a socket or
    /// an event-loop descriptor: every descriptor but 0–2 is close-on-exec, the listening socket
    /// and an accepted connection included.
    func testEveryDescriptorIsCloseOnExec() throws {
        daemon = DaemonProcess()
        try daemon.start()
        let connection = try RawConnection(path: daemon.socketPath)
        connection.send(.ping, requestID: 1, PingMessage(payload: [1]))
        XCTAssertEqual(connection.readFrame()?.status, 0, "the connection is accepted")
        let pid = try XCTUnwrap(daemon.process?.processIdentifier)
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").compactMap(Int32.init).filter { $0 > 2 }
        var kinds: Set<String> = []
        for fd in descriptors {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8),
                let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags:") }),
                let flags = Int(flagsLine.split(separator: "\t").last ?? "", radix: 8)
            else { continue }  // closed since the listing
            kinds.insert(target.hasPrefix("socket:") ? "socket" : target.hasSuffix("data.mdb") ? "data.mdb" : target)
            XCTAssertNotEqual(flags & Int(O_CLOEXEC), 0, "descriptor \(fd) (\(target)) is not close-on-exec")
        }
        XCTAssertTrue(kinds.isSuperset(of: ["socket", "data.mdb", "anon_inode:[eventpoll]"]), "the listing saw \(kinds)")
    }

    func testSIGHUPDrainsLikeSIGTERM() throws {
        daemon = DaemonProcess()
        try daemon.start()
        XCTAssertEqual(daemon.stop(signal: SIGHUP), 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socketPath), "the socket file is removed")
        XCTAssertTrue(daemon.log.contains("stopped serving"), daemon.log)
    }

    func testNoCoreDumpsAndNoStandardDescriptorTakenByTheDaemonsOwnFiles() throws {
        daemon = DaemonProcess()
        // Started with descriptors 0, 1 and 2 closed, and core files allowed.
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = [
            "-c",
            "ulimit -c unlimited; exec \"$0\" --socket \"$1\" --data \"$2\" --argon2-ops 1 --argon2-mem-kib 64 <&- >&- 2>&-",
            DaemonProcess.tesserad, daemon.socketPath, daemon.dataPath,
        ]
        let notifications = try NotificationSocket(path: daemon.directory + "/notify.sock")
        shell.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": notifications.path]) { $1 }
        try shell.run()
        defer {
            kill(shell.processIdentifier, SIGTERM)
            shell.waitUntilExit()
        }
        XCTAssertEqual(notifications.next(timeout: 20), "READY=1", "the service manager is told once the socket accepts")
        XCTAssertTrue(RawConnection.canConnect(daemon.socketPath), "started with 0-2 closed")
        let pid = shell.processIdentifier
        for fd in 0...2 {
            let target = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)")
            XCTAssertEqual(target, "/dev/null", "descriptor \(fd): the log must not land in a database or socket file")
        }
        let limits = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let core = try XCTUnwrap(limits.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        XCTAssertEqual(core.split(separator: " ", omittingEmptySubsequences: true).dropFirst(4).prefix(2), ["0", "0"], String(core))
        kill(pid, SIGTERM)
        XCTAssertEqual(notifications.next(timeout: 20), "STOPPING=1", "and told when it starts to drain")
    }
}
