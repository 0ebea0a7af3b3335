import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The real `tesserad`, started as its own process on a temporary socket and data directory.
final class DaemonProcess {
    let directory: String
    let socketPath: String
    let dataPath: String
    /// The flags after `--socket` and `--data`; a test may change them before a restart.
    var extraArguments: [String]
    /// A program that runs the daemon (`prlimit --nofile=N:N`, which then execs it), or none.
    var launcher: [String] = []
    private(set) var process: Process?
    /// Everything the daemon wrote to standard output and error (a file, so a chatty daemon never blocks on a full pipe).
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    var logPath: String { directory + "/tesserad.log" }

    /// Where `swift build` put the executables (next to the test bundle).
    static let productsDirectory: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
        while url.pathComponents.count > 1
            && !FileManager.default.fileExists(atPath: url.deletingLastPathComponent().appendingPathComponent("tesserad").path)
        {
            url = url.deletingLastPathComponent()
        }
        return url.deletingLastPathComponent()
    }()

    static var tesserad: String { productsDirectory.appendingPathComponent("tesserad").path }
    static var tessera: String { productsDirectory.appendingPathComponent("tessera").path }

    /// Cheap argon2id so the suite stays fast, unless a test asks for more.
    init(arguments: [String] = ["--argon2-ops", "1", "--argon2-mem-kib", "64"]) {
        directory = "/tmp/tessera-e2e-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socketPath = directory + "/t.sock"
        dataPath = directory + "/data"
        extraArguments = arguments
    }

    /// Starts the daemon and waits for its `READY=1` (sent once its socket accepts connections)
    /// or its exit, whichever comes first.
    func start(file: StaticString = #filePath, line: UInt = #line) throws {
        let notifications = try NotificationSocket(path: directory + "/notify.sock")
        let process = Process()
        let command = launcher + [Self.tesserad, "--socket", socketPath, "--data", dataPath, "--log-level", "debug"] + extraArguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = ProcessInfo.processInfo.environment.merging(["NOTIFY_SOCKET": notifications.path]) { $1 }
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        logFile.seekToEndOfFile()
        process.standardError = logFile
        process.standardOutput = logFile
        let notificationPath = notifications.path
        process.terminationHandler = { ended in NotificationSocket.post("EXITED \(ended.processIdentifier)", to: notificationPath) }
        try process.run()
        try logFile.close()
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

/// Runs a command to completion, feeding `input` on standard input.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runCommand(_ path: String, _ arguments: [String], input: String? = nil, currentDirectory: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
    let out = Pipe(), err = Pipe(), inPipe = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = inPipe
    try process.run()
    if let input { inPipe.fileHandleForWriting.write(Data(input.utf8)) }
    try inPipe.fileHandleForWriting.close()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}
