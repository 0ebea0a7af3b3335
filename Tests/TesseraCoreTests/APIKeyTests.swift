import Foundation
import LMDBKit
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// API keys over a real store with a manual clock: creation within the user's roles, verify
/// (the same path as a session token), expiry, revocation, the account's state and deletion,
/// last use without a write per verify, and a digest key kept while a live key needs it.
final class APIKeyTests: CoreTestCase {
    var apiKeys: APIKeys { fixture.service.apiKeys }

    override func prepare() async throws {
        try await fixture.createUser("alice", roles: ["reader", "writer", "admin"])
    }

    private func assertFails<T>(
        _ expected: AuthError, _ body: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) async {
        await assertThrowsAsync(try await body(), file: file, line: line) { XCTAssertEqual($0 as? AuthError, expected, file: file, line: line) }
    }

    func testAKeyVerifiesWithItsPermissionsAndIsShownOnce() async throws {
        let (key, info) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "ci deploy", permissions: ["writer", "reader", "writer"]))
        XCTAssertEqual(key.count, 72)
        XCTAssertTrue(key.hasPrefix(info.prefix), "\(key) \(info.prefix)")
        XCTAssertEqual(info.prefix.count, 12)
        XCTAssertEqual(info.permissions, ["reader", "writer"])
        XCTAssertNil(info.expiresAt)

        let verified = try fixture.service.verification.verify(token: key)
        XCTAssertEqual(verified.userID, 1)
        XCTAssertEqual(APIKeyID(reinterpreting: verified.sessionID), info.id, "VERIFY names the key by its id")
        XCTAssertEqual(verified.roles, ["reader", "writer"])
        XCTAssertEqual(verified.apiKeyName, "ci deploy")
        XCTAssertEqual(verified.expiresAt, 0)
        XCTAssertEqual(try apiKeys.verify(key: key).apiKeyName, "ci deploy")

        // A session token is not an API key where only API keys are taken; a forged key is nothing.
        let session = try await fixture.login("alice")
        XCTAssertThrowsError(try apiKeys.verify(key: session.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        var forged = Array(key.utf8)
        forged[60] = forged[60] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertThrowsError(try apiKeys.verify(key: String(decoding: forged, as: UTF8.self))) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid)
        }
    }

    func testAPermissionOutsideTheUsersRolesIsRefused() async throws {
        await assertFails(
            .invalidArgument("permission 'billing' is not a role of the user: an API key's permissions are among its user's roles"),
            try await apiKeys.create(.username("alice"), NewAPIKey(name: "x", permissions: ["reader", "billing"])))
        await assertFails(.invalidArgument("an API key needs a name"), try await apiKeys.create(.username("alice"), NewAPIKey(name: "")))
        await assertFails(.notFound("user"), try await apiKeys.create(.username("nobody"), NewAPIKey(name: "x")))
        XCTAssertEqual(try apiKeys.list(.username("alice")), [])
    }

    func testAnExpiredKeyAndARevokedKeyAreRefusedWithDistinctCodes() async throws {
        let (short, _) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "short", lifetimeSeconds: 60))
        fixture.clock.advance(by: 1)
        let (revoked, revokedInfo) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "revoked"))
        _ = try fixture.service.verification.verify(token: short)
        fixture.clock.advance(by: 59_999)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: short)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }

        try await apiKeys.revoke(revokedInfo.id)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: revoked)) { XCTAssertEqual($0 as? AuthError, .tokenRevoked) }
        let listed = try apiKeys.list(.username("alice"))
        XCTAssertEqual(listed.map(\.name), ["short", "revoked"])
        XCTAssertEqual(listed[1].revokedAt, fixture.clock.now())
        XCTAssertEqual(listed[0].expiresAt, listed[0].createdAt + 60_000)
    }

    func testAnotherUsersKeyCannotBeRevokedByOwner() async throws {
        let bob = try await fixture.createUser("bob")
        let (_, info) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "a"))
        await assertFails(.notFound("API key"), try await apiKeys.revoke(info.id, ofUser: bob.id))
        try await apiKeys.revoke(info.id, ofUser: 1)
    }

    func testDisablingTheAccountRevokesEveryKeyAndDeletingTheUserRemovesThem() async throws {
        let (first, _) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "one"))
        let (second, _) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "two"))
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .disabled)
        for key in [first, second] {
            XCTAssertThrowsError(try fixture.service.verification.verify(token: key)) { XCTAssertEqual($0 as? AuthError, .tokenRevoked) }
        }
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .active)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: first), "re-enabling does not bring keys back")
        await assertFails(
            .inactiveAccount,
            try await { () async throws -> Void in
                _ = try await fixture.service.accounts.setState(.username("alice"), to: .disabled)
                _ = try await apiKeys.create(.username("alice"), NewAPIKey(name: "three"))
            }())

        try await fixture.service.accounts.deleteUser(.username("alice"))
        XCTAssertThrowsError(try fixture.service.verification.verify(token: first)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        let store = fixture.service.store
        try store.read { txn in
            var count = 0
            try txn.forEach(in: store.apiKeys) { _, _ in
                count += 1
                return true
            }
            XCTAssertEqual(count, 0, "no record left")
        }
    }

    func testNarrowingTheUsersRolesNarrowsEveryKey() async throws {
        let (key, _) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "k", permissions: ["reader", "writer"]))
        var changes = ProfileChanges()
        changes.roles = ["reader"]
        _ = try await fixture.service.accounts.updateProfile(.username("alice"), changes)
        XCTAssertEqual(try fixture.service.verification.verify(token: key).roles, ["reader"])
    }

    func testLastUseIsRecordedAtMostOncePerInterval() async throws {
        let (key, info) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "k"))
        XCTAssertNil(try apiKeys.list(.username("alice"))[0].lastUsedAt)
        let store = fixture.service.store
        _ = try fixture.service.verification.verify(token: key)
        try await store.write { _ in }  // after the touch, queued before it
        let first = fixture.clock.now()
        XCTAssertEqual(try apiKeys.list(.username("alice"))[0].lastUsedAt, first)
        fixture.clock.advance(by: 10_000)
        let again = try fixture.service.verification.verify(token: key)
        XCTAssertFalse(again.touchDue, "within the interval: no write")
        fixture.clock.advance(by: 60_000)
        _ = try fixture.service.verification.verify(token: key)
        try await store.write { _ in }
        XCTAssertEqual(try apiKeys.list(.username("alice")).first { $0.id == info.id }?.lastUsedAt, fixture.clock.now())
    }

    func testADigestKeyStaysWhileALiveAPIKeyWasMadeUnderIt() async throws {
        let (key, info) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "long-lived"))
        let old = fixture.service.store.keyRing.active.id
        _ = try await fixture.service.keys.rotate()
        fixture.clock.advance(by: 31 * 24 * 3600 * 1000)  // past every session, refresh and code lifetime
        _ = try await fixture.service.sweeper.sweep()
        XCTAssertEqual((try fixture.service.keys.list()).first { $0.id == old }?.state, .verifyOnly)
        _ = try fixture.service.verification.verify(token: key)

        try await apiKeys.revoke(info.id)
        _ = try await fixture.service.sweeper.sweep()
        XCTAssertEqual((try fixture.service.keys.list()).first { $0.id == old }?.state, .retired)
    }

    /// LIST_KEYS shows when a held key will really retire: the latest expiry of the API keys
    /// made under it, or no time while one never expires; not its usual time, even past.
    func testTheListedRetirementOfAHeldKeyIsWhenItsLastAPIKeyEnds() async throws {
        let old = fixture.service.store.keyRing.active.id
        let listed = { try XCTUnwrap(try self.fixture.service.keys.list().first { $0.id == old }) }
        _ = try await apiKeys.create(.username("alice"), NewAPIKey(name: "short", lifetimeSeconds: 3600))
        let (_, yearly) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "yearly", lifetimeSeconds: 365 * 24 * 3600))
        let (_, forever) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "forever"))
        _ = try await fixture.service.keys.rotate()
        let usual = try XCTUnwrap(fixture.service.store.keyRing.keys.first { $0.id == old }).retiresAt
        XCTAssertEqual(try listed().retiresAt, 0, "a key that never expires holds it: no time")
        try await apiKeys.revoke(forever.id)
        XCTAssertEqual(try listed().retiresAt, try XCTUnwrap(yearly.expiresAt), "held past its usual time by the yearly key")
        try await apiKeys.revoke(yearly.id)
        XCTAssertEqual(try listed().retiresAt, usual, "the hour-long key ends before the usual time")
        fixture.clock.advance(by: 31 * 24 * 3600 * 1000)
        XCTAssertEqual(try listed().state, .verifyOnly)
        XCTAssertLessThan(try listed().retiresAt, fixture.clock.now(), "due: the next sweep retires it")
        _ = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(try listed().state, .retired)
    }

    func testRetiringTheDigestKeyByHandRefusesItsAPIKeys() async throws {
        let (key, _) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "k"))
        _ = try await fixture.service.keys.retire(fixture.service.store.keyRing.active.id)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: key)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
    }
}

/// `--api-key-max-lifetime`: no key outlives the maximum, asked for or not.
final class APIKeyLifetimeTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.apiKeyMaximumLifetimeSeconds = 3600
    }

    override func prepare() async throws {
        try await fixture.createUser("alice")
    }

    func testAKeyWithoutALifetimeGetsTheMaximumAndALongerOneIsRefused() async throws {
        let apiKeys = fixture.service.apiKeys
        let now = fixture.clock.now()
        let (key, unbounded) = try await apiKeys.create(.username("alice"), NewAPIKey(name: "no lifetime asked"))
        XCTAssertEqual(unbounded.expiresAt, now + 3_600_000)
        let shorter = try await apiKeys.create(.username("alice"), NewAPIKey(name: "shorter", lifetimeSeconds: 60)).info
        XCTAssertEqual(shorter.expiresAt, now + 60_000)
        let exact = try await apiKeys.create(.username("alice"), NewAPIKey(name: "exact", lifetimeSeconds: 3600)).info
        XCTAssertEqual(exact.expiresAt, now + 3_600_000)
        await assertThrowsAsync(try await apiKeys.create(.username("alice"), NewAPIKey(name: "longer", lifetimeSeconds: 3601))) {
            XCTAssertEqual($0 as? AuthError, .invalidArgument("lifetime_seconds is longer than this server allows for an API key (3600 s)"))
        }
        fixture.clock.advance(by: 3_600_000)
        XCTAssertThrowsError(try apiKeys.verify(key: key)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }
}
