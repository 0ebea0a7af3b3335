import Foundation
import NIOHTTP1
import TesseraClient
import TestSupport
import XCTest

/// The gateway passes each login's client address to tesserad (for its per-source throttle and
/// the session's record): the TCP peer's, or behind a trusted proxy the rightmost address of
/// the client-address header that is not a trusted proxy. Seen through the daemon's LIST_SESSIONS.
final class GatewayClientAddressTests: XCTestCase {
    var gateway: GatewayProcess!
    override func tearDown() async throws { await gateway?.tearDown() }

    /// Logs alice in through the JWT API with `headers` and answers the client address her
    /// newest session records.
    private func clientIPOfALogin(headers: [(String, String)]) async throws -> String? {
        let reply = try await gateway.send(.POST, "/auth/login", json: ["username": "alice", "password": "correct horse"], headers: headers)
        XCTAssertEqual(reply.status, 200, reply.text)
        let admin = TesseraClient(socketPath: gateway.daemon.socketPath)
        defer { Task { await admin.close() } }
        let sessions = try await admin.sessions(of: .username("alice"))
        return sessions.max { $0.createdAt < $1.createdAt }?.clientIP
    }

    func testWithoutATrustedProxyTheAddressIsThePeersAndTheHeaderIsIgnored() async throws {
        gateway = try GatewayProcess(arguments: ["--apis", "jwt"])
        try gateway.createUser("alice")
        let forged = try await clientIPOfALogin(headers: [("X-Forwarded-For", "198.51.100.7")])
        XCTAssertEqual(forged, "127.0.0.1", "a client cannot name its own address")
    }

    func testBehindTrustedProxiesTheAddressIsTheRightmostUntrustedHop() async throws {
        gateway = try GatewayProcess(arguments: ["--apis", "jwt", "--trusted-proxy", "127.0.0.1", "--trusted-proxy", "198.51.100.0/24"])
        try gateway.createUser("alice")
        // A client that put an address of its own first does not get it believed.
        let hops = try await clientIPOfALogin(headers: [("X-Forwarded-For", "192.0.2.66, 203.0.113.1, 198.51.100.7")])
        XCTAssertEqual(hops, "203.0.113.1")
        let twoLines = try await clientIPOfALogin(headers: [("X-Forwarded-For", "2001:db8::5"), ("X-Forwarded-For", "198.51.100.9")])
        XCTAssertEqual(twoLines, "2001:db8::5", "every line of the header, in order")
        let none = try await clientIPOfALogin(headers: [])
        XCTAssertEqual(none, "127.0.0.1", "no header: the proxy's own address")
    }

    func testAHeaderNamedByTheOperatorAndABadRangeRefusedAtStart() async throws {
        gateway = try GatewayProcess(arguments: [
            "--apis", "jwt", "--trusted-proxy", "::1/128", "--trusted-proxy", "127.0.0.0/8", "--client-ip-header", "X-Real-IP",
        ])
        try gateway.createUser("alice")
        let real = try await clientIPOfALogin(headers: [("X-Real-IP", "203.0.113.44"), ("X-Forwarded-For", "198.51.100.1")])
        XCTAssertEqual(real, "203.0.113.44")
        let refused = try runCommand(GatewayProcess.gateway, ["--trusted-proxy", "10.0.0.0/33"])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("--trusted-proxy takes an address or ADDRESS/BITS"), refused.stderr)
    }
}
