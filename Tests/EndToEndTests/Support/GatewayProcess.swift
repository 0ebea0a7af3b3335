import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The real `tessera-gateway`, in front of a real `tesserad`, reached over HTTP by a real client
/// (curl: a client nobody here wrote, and no TLS stack to build twice for the suite). When the tests run as root with `setpriv` at hand, the gateway runs as
/// `nobody` and the daemon names that uid an application peer (`--app-uid`): the gateway is
/// then exactly what the issue asks, an application peer, never an administrator.
final class GatewayProcess {
    let daemon: DaemonProcess
    private(set) var process: Process?
    private(set) var port = 0
    let extraArguments: [String]
    var logPath: String { daemon.directory + "/gateway.log" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    static let nobody = "65534"
    static var runsAsApplication: Bool { getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv") }
    static var gateway: String { productsDirectory.appendingPathComponent("tessera-gateway").path }

    /// A daemon (with the gateway's uid as its application peer) and the gateway in front of it.
    init(arguments: [String] = []) throws {
        daemon = DaemonProcess(
            arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"] + (Self.runsAsApplication ? ["--app-uid", Self.nobody] : []))
        extraArguments = arguments
        try daemon.start()
        try start()
    }

    /// Starts the gateway on a free port and waits for its "serving" line.
    func start(file: StaticString = #filePath, line: UInt = #line) throws {
        var command = [Self.gateway, "--listen", "127.0.0.1:0", "--tessera-socket", daemon.socketPath] + extraArguments
        if Self.runsAsApplication {
            XCTAssertEqual(chmod(daemon.directory, 0o755), 0)
            let copy = daemon.directory + "/tessera-gateway"
            if !FileManager.default.fileExists(atPath: copy) { try FileManager.default.copyItem(atPath: Self.gateway, toPath: copy) }
            XCTAssertEqual(chmod(copy, 0o755), 0)
            command[0] = copy
            command = ["/usr/bin/setpriv", "--reuid=\(Self.nobody)", "--regid=\(Self.nobody)", "--groups=\(getegid())"] + command
        }
        try? FileManager.default.removeItem(atPath: logPath)
        let process = try startLogged(command, logPath: logPath)
        self.process = process
        var found: Int?
        _ = LogWatch.wait(path: logPath, timeout: 30) { log in
            found = Self.port(in: log)
            return found != nil || !process.isRunning
        }
        guard let found else {
            XCTFail("tessera-gateway did not start: \(log)", file: file, line: line)
            throw CocoaError(.fileNoSuchFile)
        }
        port = found
    }

    /// The port of the gateway's "serving" line (`address=[IPv4]127.0.0.1/127.0.0.1:PORT`).
    private static func port(in log: String) -> Int? {
        guard let line = log.split(separator: "\n").first(where: { $0.contains("serving") }),
            let range = line.range(of: #"address=\S*:(\d+)"#, options: .regularExpression)
        else { return nil }
        return Int(line[range].split(separator: ":").last ?? "")
    }

    func tearDown() async {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        daemon.tearDown()
    }

    // MARK: HTTP

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object (empty when it is not one).
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        func header(_ name: String) -> String? { headers.first(name: name) }
    }

    /// Sends a request to the gateway with curl; `json` becomes the body (a string is sent as
    /// is). Redirects are not followed; no `Expect: 100-continue`.
    func send(
        _ method: HTTPMethod, _ path: String, json: Any? = nil, headers: [(String, String)] = [], contentType: String = "application/json"
    ) async throws -> Reply {
        var arguments = ["-sS", "-i", "--max-time", "20", "-X", method.rawValue, "-H", "Expect:"]
        for (name, value) in headers { arguments += ["-H", "\(name): \(value)"] }
        var body = Data()
        if let json {
            body = json as? String == nil ? try JSONSerialization.data(withJSONObject: json) : Data((json as! String).utf8)
            // An empty content type is sent as an empty header (curl's `Name;`).
            arguments += ["-H", contentType.isEmpty ? "content-type;" : "content-type: \(contentType)", "--data-binary", "@-"]
        }
        arguments.append("http://127.0.0.1:\(port)\(path)")
        let output = try await Self.curl(arguments, input: body)
        return try Self.parse(output)
    }

    /// Runs curl to completion off the caller's thread; its standard output (`-i`: the status
    /// line, the headers, a blank line, the body).
    private static func curl(_ arguments: [String], input: Data) async throws -> Data {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                    process.arguments = arguments
                    let out = Pipe(), err = Pipe(), inPipe = Pipe()
                    (process.standardOutput, process.standardError, process.standardInput) = (out, err, inPipe)
                    try process.run()
                    inPipe.fileHandleForWriting.write(input)
                    try inPipe.fileHandleForWriting.close()
                    let data = out.fileHandleForReading.readDataToEndOfFile()
                    let problem = err.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    guard process.terminationStatus == 0 else {
                        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "curl: \(String(decoding: problem, as: UTF8.self))"])
                    }
                    continuation.resume(returning: data)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// The status, headers and body of curl's `-i` output.
    private static func parse(_ output: Data) throws -> Reply {
        let separator = Data("\r\n\r\n".utf8)
        guard let end = output.range(of: separator) else { throw CocoaError(.fileReadCorruptFile) }
        let head = String(decoding: output[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = head.first?.split(separator: " ") ?? []
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw CocoaError(.fileReadCorruptFile) }
        var headers = HTTPHeaders()
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        return Reply(status: status, headers: headers, body: Data(output[end.upperBound...]))
    }

    /// Creates a user through the CLI (as an administrator), with a password.
    func createUser(_ name: String, password: String = "correct horse", extra: [String] = []) throws {
        let result = try runCommand(DaemonProcess.tessera, ["--socket", daemon.socketPath, "user", "add", name] + extra, input: password + "\n")
        XCTAssertEqual(result.status, 0, result.stderr)
    }
}
