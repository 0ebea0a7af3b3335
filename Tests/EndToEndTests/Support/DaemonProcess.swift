import Foundation
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The real `tesserad`, started as its own process on a temporary socket and data directory.
final class DaemonProcess {
    let directory: String
    /// In `directory` unless a test puts it elsewhere before `start()`.
    var socketPath: String
    let dataPath: String
    /// The flags after `--socket` and `--data`; a test may change them before a restart.
    var extraArguments: [String]
    /// A program that runs the daemon (`prlimit --nofile=N:N`, which then execs it), or none.
    var launcher: [String] = []
    private(set) var process: Process?
    /// Everything the daemon wrote to standard output and error (a file, so a chatty daemon never blocks on a full pipe).
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var logPath: String { directory + "/tesserad.log" }

    static var tesserad: String { TestSupport.productsDirectory.appendingPathComponent("tesserad").path }
    static var tessera: String { TestSupport.productsDirectory.appendingPathComponent("tessera").path }

    /// Cheap argon2id so the suite stays fast, unless a test asks for more.
    init(arguments: [String] = ["--argon2-ops", "1", "--argon2-mem-kib", "64"]) {
        // Under /tmp whatever TMPDIR says: the socket's path must stay short.
        directory = TemporaryDirectory("tessera-e2e", in: "/tmp").path
        socketPath = directory + "/t.sock"
        dataPath = directory + "/data"
        extraArguments = arguments
    }

    /// Starts the daemon and waits for its `READY=1` (sent once its socket accepts connections)
    /// or its exit, whichever comes first.
    func start(file: StaticString = #filePath, line: UInt = #line) throws {
        let notifications = try NotificationSocket(path: directory + "/notify.sock")
        // Writable by anyone, as systemd's own is: the daemon may have become another user.
        chmod(notifications.path, 0o777)
        let command = launcher + [Self.tesserad, "--socket", socketPath, "--data", dataPath, "--log-level", "debug"] + extraArguments
        let notificationPath = notifications.path
        let process = try startLogged(command, logPath: logPath, environment: ["NOTIFY_SOCKET": notificationPath]) { ended in
            NotificationSocket.post("EXITED \(ended.processIdentifier)", to: notificationPath)
        }
        self.process = process
        // An earlier process's exit may be reported late: only this one's counts.
        let deadline = Date().addingTimeInterval(20)
        while let message = notifications.next(timeout: deadline.timeIntervalSinceNow), message != "EXITED \(process.processIdentifier)" {
            if message == "READY=1" { return }
        }
        XCTFail("tesserad did not start: \(log)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
    }

    /// Waits until the daemon's log satisfies `satisfied` (woken by each write to it).
    func waitForLog(timeout: TimeInterval = 20, until satisfied: (String) -> Bool) -> Bool {
        LogWatch.wait(path: logPath, timeout: timeout, until: satisfied)
    }

    /// Sends `signal` and waits for the process to exit; returns its exit status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM) -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, signal)
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    func restart() throws {
        stop()
        try start()
    }

    func tearDown() {
        if process != nil { stop(signal: SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}
