import Foundation
import LMDBKit
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// The session index inside the store: every session write reaches it, the fill at open races
/// writes without putting back what they ended, verify falls back to LMDB when the index cannot
/// answer; and the token-digest constructions.
final class SessionIndexStoreTests: CoreTestCase {
    var store: TesseraStore { fixture.service.store }

    private func sessionsInLMDB() throws -> Int {
        try store.read { txn in try txn.count(of: store.sessions) }
    }

    private func verifies(_ token: String) -> Bool {
        (try? fixture.service.verification.verify(token: token)) != nil
    }

    func testEverySessionWriteReachesTheIndexBeforeItIsAcknowledged() async throws {
        try await fixture.createUser("alice", roles: ["admin"])
        await store.waitForSessionIndex()
        XCTAssertTrue(store.sessionIndex.isAuthoritative)
        let login = try await fixture.login("alice")
        guard case .hit(let hit) = store.sessionIndex.lookup(login.sessionID) else { return XCTFail("login not in the index") }
        XCTAssertEqual(hit.userID, login.user.id)
        XCTAssertEqual(hit.expiresAt, login.expiresAt)
        forEachShortString(hit.rawRoles) { XCTAssertEqual(String(decoding: $0, as: UTF8.self), "admin") }
        // A roles change is copied into the user's sessions, and into the index.
        var changes = ProfileChanges()
        changes.roles = ["editor"]
        _ = try await fixture.service.accounts.updateProfile(.id(login.user.id), changes)
        XCTAssertEqual(try fixture.service.verification.verify(token: login.token).roles, ["editor"])
        // The index answers, not LMDB: a record removed behind the store's back still verifies...
        let store = self.store
        _ = try await store.write { txn in try txn.delete(login.sessionID.bytes, in: store.sessions) }
        XCTAssertTrue(verifies(login.token))
        try await store.write { txn in try store.removeSession(login.sessionID, userID: login.user.id, in: txn) }
        // ...and a removal through the store is refused by the next verify.
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        let again = try await fixture.login("alice")
        try await fixture.service.sessions.logout(token: again.token)
        XCTAssertFalse(verifies(again.token))
        XCTAssertEqual(store.sessionIndex.sessionCount, try sessionsInLMDB())
    }

    func testTheFillAtOpenRacesWritesAndPutsBackNothingTheyEnded() async throws {
        let alice = try await fixture.createUser("alice")
        var tokens: [String] = []
        try store.bulkLoadSessions(count: 3 * TesseraStore.indexFillStep + 100, userID: alice.id, lifetimeSeconds: 3600, clock: fixture.clock) {
            tokens.append($0)
        }
        try fixture.reopen()
        // Queued at once, these writes land between the fill's steps.
        let ended = stride(from: 0, to: tokens.count, by: 7).map { tokens[$0] }
        let sessions = fixture.service.sessions
        try await withThrowingTaskGroup(of: Void.self) { group in
            for token in ended { group.addTask { try await sessions.logout(token: token) } }
            try await group.waitForAll()
        }
        let fresh = try await fixture.login("alice")
        await store.waitForSessionIndex()
        XCTAssertTrue(store.sessionIndex.isAuthoritative)
        XCTAssertEqual(store.sessionIndex.sessionCount, try sessionsInLMDB())
        XCTAssertEqual(store.sessionIndex.sessionCount, tokens.count - ended.count + 1)
        let endedSet = Set(ended)
        for token in tokens { XCTAssertEqual(verifies(token), !endedSet.contains(token)) }
        XCTAssertTrue(verifies(fresh.token))
    }

    func testWhenTheIndexCannotAnswerVerifyReadsLMDB() async throws {
        try await fixture.createUser("alice")
        let kept = try await fixture.login("alice")
        let ended = try await fixture.login("alice")
        await store.waitForSessionIndex()
        // A session the index cannot hold takes its authority away: misses go to LMDB.
        store.sessionIndex.put(nil, for: kept.sessionID)
        XCTAssertFalse(store.sessionIndex.isAuthoritative)
        XCTAssertTrue(verifies(kept.token))
        try await fixture.service.sessions.logout(token: ended.token)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: ended.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        fixture.clock.advance(by: 2 * 24 * 3600 * 1000)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: kept.token)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }

    func testTheDigestConstructionsGiveThePublishedExample() {
        // PROTOCOL.md section 10: key 0x00...0x1f, secret 0x20...0x3f.
        var key = TokenKey(id: 1, material: Array(0..<32), createdAt: 0, state: .active)
        let secret = [UInt8](32..<64)
        func digest() -> String {
            var out = [UInt8](repeating: 0, count: 32)
            secret.withUnsafeBytes { s in out.withUnsafeMutableBytes { key.digest(secret: s, into: $0) } }
            return out.map { String(format: "%02x", $0) }.joined()
        }
        XCTAssertEqual(key.construction, .oneBlockBLAKE2b, "new keys use one block")
        XCTAssertEqual(digest(), "10d8e6d534b00939843fe9dcc4dae48cdf008f6b8b2b82b156f5404d874887f5")
        key.construction = .keyedBLAKE2b
        XCTAssertEqual(digest(), "efd7a7d60617909f53c9ff5064751b987e4234ba2c91d8908760b5de6fddc7c8")
    }

    func testAKeyFromBeforeTheOneBlockConstructionKeepsKeyedDigestsAndItsTokensOutliveARotation() async throws {
        // Write the active digest key back as a version 2 record (no construction byte), as an
        // older version left it.
        let store = self.store
        let active = store.keyRing.active
        let master = fixture.masterKey
        var version2 = active.encoded(sealedWith: master)
        XCTAssertEqual(version2[0], 3)
        version2.remove(at: 3)
        version2[0] = 2
        let record = version2
        try await store.write { txn in try txn.put(record, forKey: [UInt8(active.id >> 8), UInt8(active.id & 0xff)], in: store.tokenKeys) }
        try fixture.reopen()
        XCTAssertEqual(self.store.keyRing.active.construction, .keyedBLAKE2b)
        try await fixture.createUser("alice")
        let old = try await fixture.login("alice")
        // Its stored digest is keyed BLAKE2b of the secret.
        let token = try XCTUnwrap(SessionToken.parse(old.token))
        let stored = try XCTUnwrap(try self.store.read { try self.store.sessionRecord(old.sessionID, in: $0) }).digest
        var secret = token.secret
        let keyed = withUnsafeBytes(of: &secret) { KeyedHash.blake2b(Array($0), key: active.materialBytes) }
        XCTAssertEqual(stored, keyed)
        _ = try await fixture.service.keys.rotate()
        XCTAssertEqual(self.store.keyRing.active.construction, .oneBlockBLAKE2b)
        let new = try await fixture.login("alice")
        try fixture.reopen()
        await self.store.waitForSessionIndex()
        XCTAssertTrue(verifies(old.token), "a token made under the older key still verifies")
        XCTAssertTrue(verifies(new.token))
        XCTAssertEqual(self.store.keyRing.keys.first { $0.id == active.id }?.construction, .keyedBLAKE2b)
    }
}
