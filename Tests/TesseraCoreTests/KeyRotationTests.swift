import Foundation
import LMDBKit
import XCTest

@testable import TesseraCore

/// Rotation without logging anyone out, retirement that refuses at once, and the ring that
/// survives a restart.
final class KeyRotationTests: XCTestCase {
    var fixture: CoreFixture!
    override func setUp() async throws {
        fixture = try CoreFixture {
            $0.sessionLifetimeSeconds = 3600
            $0.refreshLifetimeSeconds = 7200
            $0.validationCodeLifetimeSeconds = 600
        }
    }
    override func tearDown() { fixture.tearDown() }

    private func keyID(_ token: String, kind: UInt8 = SessionToken.version) throws -> UInt16 {
        try XCTUnwrap(SessionToken.parse(token, kind: kind)).keyID
    }

    func testTokensMadeBeforeARotationStillWorkAndNewOnesCarryTheNewKey() async throws {
        try await fixture.createUser("alice")
        var unvalidated = NewUser(username: "bob", password: CoreFixture.secret("correct horse"))
        unvalidated.unvalidated = true
        let registration = try await fixture.service.accounts.register(unvalidated)
        let code = try XCTUnwrap(registration.validationCode)
        let before = try await fixture.login("alice")
        let first = fixture.service.keys.list()
        XCTAssertEqual(first.map(\.state), [.active])

        let rotated = try await fixture.service.keys.rotate()
        XCTAssertEqual(rotated.id, first[0].id + 1)
        let keys = fixture.service.keys.list()
        XCTAssertEqual(keys.map(\.state), [.verifyOnly, .active])
        XCTAssertEqual(keys[0].retiresAt, fixture.clock.now() + 7_200_000, "verify-only for the longest lifetime: the refresh family's")

        XCTAssertEqual(try fixture.service.verification.verify(token: before.token).sessionID, before.sessionID)
        let after = try await fixture.login("alice")
        XCTAssertEqual(try keyID(after.token), rotated.id)
        let renewed = try await fixture.service.sessions.refresh(before.refreshToken)
        XCTAssertEqual(try keyID(renewed.refreshToken, kind: SessionToken.refreshVersion), rotated.id, "the family moves to the new key")
        let validated = try await fixture.service.accounts.validate(code: code.code)
        XCTAssertEqual(validated.state, .active, "a pending code survives")
    }

    func testRetiringAKeyRefusesItsTokensAtOnceAndSaysHowManySessionsEnded() async throws {
        try await fixture.createUser("alice")
        let old = try await fixture.login("alice")
        _ = try await fixture.login("alice")
        let oldKey = try keyID(old.token)
        _ = try await fixture.service.keys.rotate()
        let fresh = try await fixture.login("alice")

        let (retired, ended) = try await fixture.service.keys.retire(oldKey)
        XCTAssertEqual(retired.state, .retired)
        XCTAssertEqual(ended, 2)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: old.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        await assertThrowsAsync(try await fixture.service.sessions.refresh(old.refreshToken)) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid)
        }
        XCTAssertNoThrow(try fixture.service.verification.verify(token: fresh.token))
        await assertThrowsAsync(try await fixture.service.keys.retire(999)) { XCTAssertEqual($0 as? AuthError, .notFound("key 999")) }
    }

    func testRetiringTheActiveKeyMakesANewOneFirst() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let active = try keyID(login.token)
        let (retired, ended) = try await fixture.service.keys.retire(active)
        XCTAssertEqual(retired.id, active)
        XCTAssertEqual(ended, 1)
        let states = fixture.service.keys.list().map(\.state)
        XCTAssertEqual(states, [.retired, .active], "never zero active keys")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token))
        _ = try await fixture.login("alice")
    }

    func testTheSweeperRetiresAVerifyOnlyKeyWhenNothingMadeUnderItCanBeAlive() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        _ = try await fixture.service.keys.rotate()
        fixture.clock.advance(by: 7_200_000 - 1)
        var step = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(step.keysRetired, 0)
        XCTAssertEqual(fixture.service.keys.list().map(\.state), [.verifyOnly, .active])
        fixture.clock.advance(by: 1)
        step = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(step.keysRetired, 1)
        XCTAssertEqual(fixture.service.keys.list().map(\.state), [.retired, .active])
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token))
    }

    func testTheRingAndItsStatesSurviveARestartAndARetiredKeyLosesItsMaterial() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let first = try keyID(login.token)
        _ = try await fixture.service.keys.rotate()
        _ = try await fixture.service.keys.rotate()
        _ = try await fixture.service.keys.retire(first)
        let listed = fixture.service.keys.list()
        try fixture.reopen()
        XCTAssertEqual(fixture.service.keys.list(), listed)
        XCTAssertEqual(listed.map(\.state), [.retired, .verifyOnly, .active])
        let store = fixture.service.store
        let stored = try store.read { txn in try txn.value(forKey: [0, UInt8(first)], in: store.tokenKeys) }
        let key = try XCTUnwrap(stored).withUnsafeBytes { try TokenKey(id: first, decoding: $0) }
        XCTAssertEqual(key.materialBytes, [UInt8](repeating: 0, count: 32))
    }
}
