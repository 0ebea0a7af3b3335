import Foundation
import NIOHTTP1
import TestSupport
import XCTest

/// Headers no well-behaved client sends must be refused in each API's shape, never take the
/// gateway down for everyone.
final class GatewayHostileHeaderTests: XCTestCase {
    var gateway: GatewayProcess!
    override func tearDown() async throws { await gateway?.tearDown() }

    /// An empty `Content-Type` (once a trap on the first element of an empty split: one request
    /// stopped the gateway) and one of parameters alone are no JSON: each login answers 400 and
    /// the gateway keeps serving.
    func testAnEmptyOrParameterOnlyContentTypeIsRefusedAndTheGatewayKeepsServing() async throws {
        gateway = try GatewayProcess()
        try gateway.createUser("alice")
        let credentials = ["username": "alice", "user": "alice", "password": "correct horse"]
        for path in ["/auth/simple/login", "/api/v1/login", "/api/v1/users/auth/_login", "/auth/login", "/v1/auth/login"] {
            for contentType in ["", ";charset=utf-8"] {
                let reply = try await gateway.send(.POST, path, json: credentials, contentType: contentType)
                XCTAssertEqual(reply.status, 400, "\(path) with content type '\(contentType)': \(reply.text)")
            }
        }
        let health = try await gateway.send(.GET, "/health")
        XCTAssertEqual(health.status, 200, "the gateway still serves")
        let login = try await gateway.send(.POST, "/v1/auth/login", json: credentials)
        XCTAssertEqual(login.status, 200, login.text)
    }
}
