import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

/// JWTs from the real daemon, verified by an independent implementation (Python's joserfc,
/// installed from PyPI into a virtual environment) against the daemon's JWKS, across a signing
/// key rotation and a retirement.
final class JWTEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private func joserfc(_ python: String, _ jwt: String, jwks: String) throws -> String {
        let file = daemon.directory + "/jwks-\(UUID().uuidString.prefix(6)).json"
        try jwks.write(toFile: file, atomically: true, encoding: .utf8)
        // Standard error holds joserfc's warnings (it prefers RFC 9864's "Ed25519" to "EdDSA").
        let result = try runCommand(python, ["-W", "ignore", IndependentPython.script("verify_jwt.py"), file, jwt, "api.example.com"])
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func testJWTsVerifyWithAnIndependentImplementationAcrossARotationAndFailAfterRetirement() async throws {
        let python = try IndependentPython.interpreter()
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--jwt-audience", "api.example.com"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        let alice = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8), jwt: true)
        let first = try XCTUnwrap(login.jwt)
        let firstKid = String(try await client.keys().first { $0.purpose == .jwtSigning && $0.state == .active }!.id)

        let initial = try await client.jwks()
        XCTAssertEqual(try joserfc(python, first, jwks: initial), "ok \(alice.id) \(login.sessionID) \(firstKid)")
        _ = try await client.verify(token: first)  // the daemon's own VERIFY takes the JWT too

        let rotated = try await client.rotateKey(.jwtSigning)
        let renewed = try await client.refresh(refreshToken: login.refreshToken, jwt: true)
        let second = try XCTUnwrap(renewed.jwt)
        let jwks = try await client.jwks()
        XCTAssertEqual(try joserfc(python, first, jwks: jwks), "ok \(alice.id) \(login.sessionID) \(firstKid)", "the old key stays in the JWKS")
        XCTAssertEqual(try joserfc(python, second, jwks: jwks), "ok \(alice.id) \(renewed.sessionID) \(rotated.id)")

        // The daemon knows the first JWT's session ended with the refresh; offline checks cannot.
        do {
            _ = try await client.verify(token: first)
            XCTFail("the session behind the first JWT was replaced by the refresh")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .tokenRevoked)
        }

        _ = try await client.retireKey(UInt16(firstKid)!)
        let after = try await client.jwks()
        XCTAssertFalse(after.contains("\"kid\":\"\(firstKid)\""), after)
        XCTAssertTrue(try joserfc(python, first, jwks: after).hasPrefix("fail"), "a retired key's JWTs no longer verify")
        XCTAssertEqual(try joserfc(python, second, jwks: after), "ok \(alice.id) \(renewed.sessionID) \(rotated.id)")
        await client.close()
    }
}
