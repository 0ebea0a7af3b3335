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

    /// Starts the daemon and waits until its socket accepts connections.
    func start(file: StaticString = #filePath, line: UInt = #line) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.tesserad)
        process.arguments = ["--socket", socketPath, "--data", dataPath, "--log-level", "debug"] + extraArguments
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        logFile.seekToEndOfFile()
        process.standardError = logFile
        process.standardOutput = logFile
        try process.run()
        try logFile.close()
        self.process = process
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if RawConnection.canConnect(socketPath) { return }
            if !process.isRunning { break }
            usleep(20_000)
        }
        XCTFail("tesserad did not start: \(log)", file: file, line: line)
        throw CocoaError(.fileNoSuchFile)
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

func runCommand(_ path: String, _ arguments: [String], input: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
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
