import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// JWT access tokens: signed with the ring's Ed25519 key, verified offline by anyone with the
/// JWKS, and by VERIFY with the session behind them.
final class AccessJWTTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.sessionLifetimeSeconds = 7200
        configuration.jwtLifetimeSeconds = 600
        configuration.jwtAudience = "api.example.com"
    }

    private func login(_ identifier: String = "alice") async throws -> LoginResult {
        try await fixture.service.sessions.login(LoginAttempt(identifier: identifier, password: CoreFixture.secret("correct horse"), withJWT: true))
    }

    private func parts(_ jwt: String) throws -> (header: [String: Any], claims: [String: Any]) {
        let pieces = jwt.split(separator: ".").map(String.init)
        XCTAssertEqual(pieces.count, 3)
        func decode(_ text: String) throws -> [String: Any] {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            return try JSONSerialization.jsonObject(with: try XCTUnwrap(Data(base64Encoded: base64))) as! [String: Any]
        }
        return (try decode(pieces[0]), try decode(pieces[1]))
    }

    func testALoginCanCarryAJWTForItsSessionAndVerifyAcceptsIt() async throws {
        try await fixture.createUser("alice", roles: ["admin"])
        let result = try await login()
        let jwt = try XCTUnwrap(result.jwt)
        let (header, claims) = try parts(jwt)
        XCTAssertEqual(header["alg"] as? String, "EdDSA")
        XCTAssertEqual(header["kid"] as? String, String(fixture.service.store.keyRing.activeSigning.id))
        XCTAssertEqual(claims["sub"] as? String, String(result.user.id))
        XCTAssertEqual(claims["sid"] as? String, result.sessionID.description)
        XCTAssertEqual(claims["iss"] as? String, "tessera")
        XCTAssertEqual(claims["aud"] as? String, "api.example.com")
        XCTAssertEqual(claims["roles"] as? [String], ["admin"])
        let now = fixture.clock.now() / 1000
        XCTAssertEqual(claims["iat"] as? Int64, now)
        XCTAssertEqual(claims["exp"] as? Int64, now + 600)
        XCTAssertEqual(result.jwtExpiresAt, (now + 600) * 1000)

        let verified = try fixture.service.verification.verify(token: jwt)
        XCTAssertEqual(verified.sessionID, result.sessionID)
        XCTAssertEqual(verified.roles, ["admin"])
        XCTAssertEqual(verified.expiresAt, (now + 600) * 1000, "the JWT's expiry, before the session's")

        // The signature is Ed25519 over `header.claims` with the JWKS's key.
        let jwks = try JSONSerialization.jsonObject(with: Data(fixture.service.keys.jwks().utf8)) as! [String: Any]
        let key = try XCTUnwrap((jwks["keys"] as? [[String: Any]])?.first)
        XCTAssertEqual(key["kty"] as? String, "OKP")
        XCTAssertEqual(key["crv"] as? String, "Ed25519")
        var x = (key["x"] as! String).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while x.count % 4 != 0 { x += "=" }
        let pieces = jwt.split(separator: ".")
        var signature = String(pieces[2]).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while signature.count % 4 != 0 { signature += "=" }
        XCTAssertTrue(
            Ed25519.verify(
                Array(try XCTUnwrap(Data(base64Encoded: signature))), of: Array("\(pieces[0]).\(pieces[1])".utf8),
                publicKey: Array(try XCTUnwrap(Data(base64Encoded: x)))))
    }

    func testAJWTEndsWithItsSessionItsExpiryOrItsKey() async throws {
        try await fixture.createUser("alice")
        let loggedOut = try await login()
        try await fixture.service.sessions.logout(token: loggedOut.token)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: loggedOut.jwt!)) {
            XCTAssertEqual($0 as? AuthError, .tokenRevoked, "the session behind it was ended")
        }

        let live = try await login()
        var forged = Array(live.jwt!.utf8)
        forged[forged.count - 5] = forged[forged.count - 5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: String(decoding: forged, as: UTF8.self))) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid)
        }

        // A rotation keeps the old key in the JWKS while its JWTs can live.
        let oldKey = fixture.service.store.keyRing.activeSigning.id
        _ = try await fixture.service.keys.rotate(.jwtSigning)
        XCTAssertNoThrow(try fixture.service.verification.verify(token: live.jwt!))
        let kids = (try JSONSerialization.jsonObject(with: Data(fixture.service.keys.jwks().utf8)) as! [String: Any])["keys"] as! [[String: Any]]
        XCTAssertEqual(Set(kids.compactMap { $0["kid"] as? String }), [String(oldKey), String(fixture.service.store.keyRing.activeSigning.id)])
        let fresh = try await login()
        XCTAssertEqual(try parts(fresh.jwt!).header["kid"] as? String, String(fixture.service.store.keyRing.activeSigning.id))

        fixture.clock.advance(by: 600_000)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: live.jwt!)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
        XCTAssertNoThrow(try fixture.service.verification.verify(token: live.token), "the session itself lives on")
        _ = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(
            (try fixture.service.keys.list()).filter { $0.id == oldKey }.map(\.state), [.retired], "retired once no JWT it signed can be alive")

        _ = try await fixture.service.keys.retire(fixture.service.store.keyRing.activeSigning.id)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: fresh.jwt!)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
    }

    func testARefreshCanCarryAJWTForTheNewSession() async throws {
        try await fixture.createUser("alice")
        let first = try await fixture.login("alice")
        XCTAssertNil(first.jwt, "only when asked for")
        let renewed = try await fixture.service.sessions.refresh(first.refreshToken, withJWT: true)
        XCTAssertEqual(try parts(try XCTUnwrap(renewed.jwt)).claims["sid"] as? String, renewed.sessionID.description)
    }

    /// RETIRE_KEY of a digest key ends the sessions made under it: their JWTs with them, and
    /// neither serves as a session token to make an API key.
    func testRetiringASessionsDigestKeyEndsItsJWTs() async throws {
        try await fixture.createUser("alice")
        let before = try await login()
        let key = fixture.service.store.keyRing.active.id
        let (_, ended) = try await fixture.service.keys.retire(key)
        XCTAssertEqual(ended, 1)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: before.jwt!)) {
            XCTAssertEqual($0 as? AuthError, .tokenRevoked, "the retirement ended the session behind the JWT")
        }
        XCTAssertThrowsError(try fixture.service.verification.verify(token: before.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        let after = try await login()
        XCTAssertEqual(try fixture.service.verification.verify(token: after.jwt!).sessionID, after.sessionID, "a session of the new key")
    }
}
