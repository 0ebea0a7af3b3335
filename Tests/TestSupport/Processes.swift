import Foundation

/// What a command that ran to completion left.
public struct CommandResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs a command to completion, feeding `input` on standard input.
public func runCommand(_ path: String, _ arguments: [String], input: String? = nil, currentDirectory: String? = nil) throws -> CommandResult {
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
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
}

/// Starts a long-running command (a daemon, the gateway) with its standard output and error
/// appended to `logPath` (a file, so a chatty process never blocks on a full pipe). The one
/// launcher of the suite's background processes.
public func startLogged(
    _ command: [String], logPath: String, environment: [String: String]? = nil, terminationHandler: (@Sendable (Process) -> Void)? = nil
) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: command[0])
    process.arguments = Array(command.dropFirst())
    if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
    let logFile = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
    logFile.seekToEndOfFile()
    process.standardError = logFile
    process.standardOutput = logFile
    process.terminationHandler = terminationHandler
    try process.run()
    try logFile.close()
    return process
}

/// Where `swift build` put the package's executables (next to the test bundle).
public let productsDirectory: URL = {
    var url = URL(fileURLWithPath: CommandLine.arguments.first { $0.hasSuffix(".xctest") } ?? CommandLine.arguments[0])
    while url.pathComponents.count > 1
        && !FileManager.default.fileExists(atPath: url.deletingLastPathComponent().appendingPathComponent("tesserad").path)
    {
        url = url.deletingLastPathComponent()
    }
    return url.deletingLastPathComponent()
}()
