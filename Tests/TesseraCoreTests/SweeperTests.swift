import Foundation
import LMDBKit
import TestSupport
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class SweeperTests: XCTestCase {
    /// Sweeps until a step reaches the end of both databases, adding up what was removed.
    private func fullPass(_ service: AuthService, batch: Int = 5000) async throws -> SweepResult {
        var total = SweepResult()
        for _ in 0..<100 {
            let step = try await service.sweeper.sweep(batch: batch)
            total.sessions += step.sessions
            total.refreshTokens += step.refreshTokens
            total.throttleEntries += step.throttleEntries
            total.graceBoxes += step.graceBoxes
            total.expiredTokens += step.expiredTokens
            if step.wrapped {
                total.wrapped = true
                return total
            }
        }
        XCTFail("the sweep never wrapped")
        return total
    }

    func testExpiredSessionsAndRefreshTokensAreRemovedLiveOnesKept() async throws {
        let fixture = try CoreFixture {
            $0.sessionLifetimeSeconds = 60
            $0.idleTimeoutSeconds = 0
            $0.refreshLifetimeSeconds = 120
        }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let old = try await fixture.login("alice")
        let second = try await fixture.login("alice")
        fixture.clock.advance(by: 30_000)
        let young = try await fixture.login("alice")
        fixture.clock.advance(by: 30_000)  // the first two sessions expire now; the third in 30 s

        // Batches of one: the cursor must carry the sweep across calls.
        let total = try await fullPass(fixture.service, batch: 1)
        XCTAssertEqual(total.sessions, 2)
        XCTAssertEqual(total.refreshTokens, 0, "refresh tokens live longer than sessions")
        XCTAssertEqual(try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions.map(\.id), [young.sessionID])
        XCTAssertNoThrow(try fixture.service.verification.verify(token: young.token))
        // An expired, swept access session is what a refresh token is for: it still works.
        let renewed = try await fixture.service.sessions.refresh(second.refreshToken)
        XCTAssertNoThrow(try fixture.service.verification.verify(token: renewed.token))

        fixture.clock.advance(by: 60_000)  // the first two refresh tokens expire
        let step = try await fullPass(fixture.service)
        XCTAssertEqual(step.sessions, 2, "young's, and the renewed one (rotation keeps the family's expiry)")
        XCTAssertEqual(step.refreshTokens, 3, "old's, second's retired one and its successor")
        do {
            _ = try await fixture.service.sessions.refresh(old.refreshToken)
            XCTFail("swept")
        } catch {
            XCTAssertEqual(error as? AuthError, .tokenExpired, "swept, and remembered as expired")
        }
        fixture.clock.advance(by: 60_000)
        let last = try await fullPass(fixture.service)
        XCTAssertEqual(last.refreshTokens, 1)
        let empty = try fixture.service.store.read { txn in
            (
                try txn.count(of: fixture.service.store.sessions), try txn.count(of: fixture.service.store.userSessions),
                try txn.count(of: fixture.service.store.refreshTokens), try txn.count(of: fixture.service.store.refreshFamilies)
            )
        }
        XCTAssertEqual(empty.0, 0)
        XCTAssertEqual(empty.1, 0)
        XCTAssertEqual(empty.2, 0)
        XCTAssertEqual(empty.3, 0, "families go with their last token")
    }

    func testIdentifiersAreForgottenOnceTheirDelayPassedAccountsAreNot() async throws {
        let fixture = try CoreFixture { $0.lockout = LockoutPolicy(threshold: 2, baseDelaySeconds: 30, maximumDelaySeconds: 120) }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        for identifier in ["ghost-1", "ghost-2", "ghost-3", "alice", "alice"] {
            _ = try? await fixture.login(identifier, password: "wrong")
        }
        _ = try? await fixture.login("ghost-1", password: "wrong")  // ghost-1 locked for 30 s
        let store = fixture.service.store
        func entries() throws -> Int { try store.read { try $0.count(of: store.throttle) } }
        XCTAssertEqual(try entries(), 5, "three unknown identifiers, alice's username and alice's account")

        fixture.clock.advance(by: 119_999)
        var swept = try await fullPass(fixture.service, batch: 1)
        XCTAssertEqual(swept.throttleEntries, 0, "a failure younger than the longest delay is kept")

        fixture.clock.advance(by: 1)
        swept = try await fullPass(fixture.service, batch: 1)
        XCTAssertEqual(swept.throttleEntries, 4, "every identifier's entry, known or not")
        XCTAssertEqual(try entries(), 1, "the account's entry stays: it is bounded by the accounts")
        XCTAssertEqual(try fixture.service.accounts.throttleState(.username("alice")).failures, 2)
    }

    func testASweptTokenReadsExpiredUntilTheRefreshLifetimeHasPassedSinceItsExpiry() async throws {
        let fixture = try CoreFixture {
            $0.sessionLifetimeSeconds = 60
            $0.idleTimeoutSeconds = 0
            $0.refreshLifetimeSeconds = 120
        }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let other = try await fixture.login("alice")
        try await fixture.service.sessions.logout(token: other.token)
        fixture.clock.advance(by: 60_000)
        let pass1 = try await fullPass(fixture.service)
        XCTAssertEqual(pass1.sessions, 1)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) {
            XCTAssertEqual($0 as? AuthError, .tokenExpired, "swept, the token still reads expired")
        }
        XCTAssertThrowsError(try fixture.service.verification.verify(token: other.token)) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid, "a token ended by logout is not remembered")
        }
        // The same session id with another secret is not the expired token.
        var forged = Array(login.token.utf8)
        forged[60] = forged[60] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: String(decoding: forged, as: UTF8.self))) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid)
        }

        fixture.clock.advance(by: 60_000)  // both refresh tokens expire (the logged-out one's family was revoked)
        let pass2 = try await fullPass(fixture.service)
        XCTAssertEqual(pass2.refreshTokens, 2)
        await assertThrowsAsync(try await fixture.service.sessions.refresh(login.refreshToken)) {
            XCTAssertEqual($0 as? AuthError, .tokenExpired)
        }

        fixture.clock.advance(by: 59_999)  // 119.999 s after the session's expiry
        let pass3 = try await fullPass(fixture.service)
        XCTAssertEqual(pass3.expiredTokens, 0)
        fixture.clock.advance(by: 1)
        let pass4 = try await fullPass(fixture.service)
        XCTAssertEqual(pass4.expiredTokens, 1, "the session's memory")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid, "forgotten")
        }
        fixture.clock.advance(by: 60_000)
        let pass5 = try await fullPass(fixture.service)
        XCTAssertEqual(pass5.expiredTokens, 2, "the refresh tokens' memory")
        let store = fixture.service.store
        XCTAssertEqual(try store.read { try $0.count(of: store.expiredTokens) }, 0)
    }

    func testTheGraceBoxIsWipedOnceTheWindowEnded() async throws {
        let fixture = try CoreFixture { $0.refreshGraceSeconds = 10 }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let renewed = try await fixture.service.sessions.refresh(login.refreshToken)
        let store = fixture.service.store
        let retiredID = try XCTUnwrap(SessionToken.parse(login.refreshToken, kind: SessionToken.refreshVersion)).sessionID
        func box() throws -> [UInt8] { try XCTUnwrap(try store.read { try store.refreshRecord(retiredID, in: $0) }).graceBox }
        XCTAssertFalse(try box().isEmpty)

        fixture.clock.advance(by: 10_000)
        let pass6 = try await fullPass(fixture.service)
        XCTAssertEqual(pass6.graceBoxes, 0, "still within the window")
        let retry = try await fixture.service.sessions.refresh(login.refreshToken)
        XCTAssertEqual(retry.refreshToken, renewed.refreshToken, "a retry within the window gets the same pair")

        fixture.clock.advance(by: 1)
        let pass7 = try await fullPass(fixture.service)
        XCTAssertEqual(pass7.graceBoxes, 1)
        XCTAssertEqual(try box(), [], "a copy of the data directory no longer holds the successor")
        await assertThrowsAsync(try await fixture.service.sessions.refresh(login.refreshToken)) {
            XCTAssertEqual($0 as? AuthError, .refreshReused)
        }
    }

    func testADueGraceBoxIsWipedAtTheNextStepWhereverThePassIs() async throws {
        let fixture = try CoreFixture { $0.refreshGraceSeconds = 10 }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        for _ in 0..<20 { _ = try await fixture.login("alice") }
        let login = try await fixture.login("alice")
        _ = try await fixture.service.sessions.refresh(login.refreshToken)
        let store = fixture.service.store
        let retiredID = try XCTUnwrap(SessionToken.parse(login.refreshToken, kind: SessionToken.refreshVersion)).sessionID
        fixture.clock.advance(by: 10_001)
        // One step that looks at a single refresh token: the due box is wiped all the same.
        let step = try await fixture.service.sweeper.sweep(batch: 1)
        XCTAssertEqual(step.graceBoxes, 1)
        XCTAssertEqual(try XCTUnwrap(try store.read { try store.refreshRecord(retiredID, in: $0) }).graceBox, [])
        XCTAssertEqual(try store.read { try $0.count(of: store.graceBoxes) }, 0, "the index entry goes with it")
    }

    /// What "deleted" means for a grace box (PROTOCOL.md §7.17): LMDB writes each change to a
    /// fresh page and keeps the freed page's bytes, so the sealed pair may stay in `data.mdb`
    /// after the sweep; a compacting copy (`mdb_copy -c`, the copy the spec recommends) writes
    /// live pages only and holds none of it.
    func testASweptGraceBoxMayLingerInAFreedPageButNotInACompactingCopy() async throws {
        let fixture = try CoreFixture { $0.refreshGraceSeconds = 10 }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        _ = try await fixture.service.sessions.refresh(login.refreshToken)
        let store = fixture.service.store
        let retiredID = try XCTUnwrap(SessionToken.parse(login.refreshToken, kind: SessionToken.refreshVersion)).sessionID
        let box = try XCTUnwrap(try store.read { try store.refreshRecord(retiredID, in: $0) }).graceBox
        XCTAssertGreaterThan(box.count, 32)
        fixture.clock.advance(by: 10_001)
        _ = try await fixture.service.sweeper.sweep(batch: 100)
        XCTAssertEqual(try XCTUnwrap(try store.read { try store.refreshRecord(retiredID, in: $0) }).graceBox, [])

        let file = try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/data.mdb"))
        XCTAssertNotNil(file.range(of: Data(box)), "the freed page keeps the box: why the spec qualifies its deletion")
        let copy = TemporaryDirectory("tessera-copy").path
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let copied = try runCommand("/usr/bin/mdb_copy", ["-c", fixture.directory, copy])
        XCTAssertEqual(copied.status, 0, copied.stderr)
        let compacted = try Data(contentsOf: URL(fileURLWithPath: copy + "/data.mdb"))
        XCTAssertGreaterThan(compacted.count, 0)
        XCTAssertNil(compacted.range(of: Data(box)), "a compacting copy holds no freed page")
    }
}
