import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The real `tessera-gateway`, in front of a real `tesserad`, reached over HTTP by a real client
/// (AsyncHTTPClient). When the tests run as root with `setpriv` at hand, the gateway runs as
/// `nobody` and the daemon names that uid an application peer (`--app-uid`): the gateway is
/// then exactly what the issue asks, an application peer, never an administrator.
final class GatewayProcess {
    let daemon: DaemonProcess
    private(set) var process: Process?
    private(set) var port = 0
    let extraArguments: [String]
    var logPath: String { daemon.directory + "/gateway.log" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

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
        try? await http.shutdown()
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

    /// Sends a request to the gateway; `json` becomes the body (a string is sent as is).
    func send(_ method: HTTPMethod, _ path: String, json: Any? = nil, headers: [(String, String)] = []) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            let data = json as? String == nil ? try JSONSerialization.data(withJSONObject: json) : Data((json as! String).utf8)
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: data))
        }
        let response = try await http.execute(request, timeout: .seconds(20))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(body.readableBytesView))
    }

    /// Creates a user through the CLI (as an administrator), with a password.
    func createUser(_ name: String, password: String = "correct horse", extra: [String] = []) throws {
        let result = try runCommand(DaemonProcess.tessera, ["--socket", daemon.socketPath, "user", "add", name] + extra, input: password + "\n")
        XCTAssertEqual(result.status, 0, result.stderr)
    }
}
