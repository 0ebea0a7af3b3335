import Foundation
import LMDBKit
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// The storage rules, each one method of `TesseraStore`, checked on the databases themselves.
final class StoreTests: CoreTestCase {
    var store: TesseraStore { fixture.service.store }

    private func record(_ id: UInt64, _ username: String, email: String? = nil, phone: String? = nil) -> UserRecord {
        var user = UserRecord(
            id: id, createdAt: 1, updatedAt: 1, state: .active, passwordHash: "$argon2id$x", username: username,
            email: email, displayName: nil, roles: [])
        user.phone = phone
        return user
    }

    private func counts() throws -> [String: Int] {
        try store.read { txn in
            [
                "users": try txn.count(of: store.users), "usernames": try txn.count(of: store.usernames),
                "emails": try txn.count(of: store.emails), "phones": try txn.count(of: store.phones),
                "sessions": try txn.count(of: store.sessions), "user_sessions": try txn.count(of: store.userSessions),
                "validation_codes": try txn.count(of: store.validationCodes), "throttle": try txn.count(of: store.throttle),
            ]
        }
    }

    func testAUserIsWrittenWithItsIndexesAndNamesAreUniqueIgnoringCase() async throws {
        let store = self.store
        let alice = record(1, "alice", email: "Alice@Example.com", phone: "+33612345678")
        try await store.write { try store.putUser(alice, replacing: nil, in: $0) }
        let found = try store.read { txn in
            (
                try store.user(.email("alice@example.COM"), in: txn)?.id, try store.user(.phone("+33612345678"), in: txn)?.id,
                try store.user(.username("ALICE"), in: txn)?.id
            )
        }
        XCTAssertEqual([found.0, found.1, found.2], [1, 1, 1])
        for clash in [record(2, "ALICE"), record(2, "bob", email: "alice@example.com"), record(2, "bob", phone: "+33612345678")] {
            do {
                try await store.write { try store.putUser(clash, replacing: nil, in: $0) }
                XCTFail("\(clash.username) should clash")
            } catch let error as AuthError {
                switch (error, clash.username) {
                case (.conflict, "ALICE"), (.addressTaken, "bob"): break
                default: return XCTFail("\(error)")
                }
            }
        }
        XCTAssertEqual(try counts()["users"], 1, "a clash writes nothing")
    }

    func testChangingAnEmailOrPhoneMovesItsIndexEntry() async throws {
        let store = self.store
        let before = record(1, "alice", email: "old@example.com", phone: "+33600000001")
        try await store.write { try store.putUser(before, replacing: nil, in: $0) }
        var changed = before
        changed.email = "new@example.com"
        changed.phone = nil
        let after = changed
        try await store.write { try store.putUser(after, replacing: before, in: $0) }
        let lookups = try store.read { txn in
            (
                try store.user(.email("old@example.com"), in: txn), try store.user(.email("new@example.com"), in: txn)?.id,
                try store.user(.phone("+33600000001"), in: txn)
            )
        }
        XCTAssertNil(lookups.0)
        XCTAssertEqual(lookups.1, 1)
        XCTAssertNil(lookups.2)
        XCTAssertEqual(try counts()["emails"], 1)
        XCTAssertEqual(try counts()["phones"], 0)
    }

    func testDeletingAUserLeavesNothingThatHangsOffIt() async throws {
        var password = Array("correct horse".utf8)
        var new = NewUser(username: "alice", password: .init(wiping: &password), email: "a@example.com")
        new.profile.phone = "+33612345678"
        new.unvalidated = true
        _ = try await fixture.service.accounts.register(new)
        _ = try await fixture.service.accounts.setState(.username("alice"), to: .active)
        _ = try await fixture.login("alice")
        _ = try await fixture.login("alice")
        _ = try? await fixture.login("alice", password: "wrong password")
        let loaded = try counts()
        XCTAssertEqual(loaded["sessions"], 2)
        XCTAssertEqual(loaded["validation_codes"], 1)
        XCTAssertEqual(loaded["throttle"], 2, "the account's entry and its username's")
        try await fixture.service.accounts.deleteUser(.username("alice"))
        let remaining = try counts()
        XCTAssertEqual(remaining.values.reduce(0, +), 0, "\(remaining)")
        let families = try store.read { txn in try txn.count(of: store.refreshFamilies) }
        XCTAssertEqual(families, 2, "the families stay, revoked, so their refresh tokens answer token-revoked")
    }

    func testEndingASessionRemovesItsIndexEntryAndRevokesItsFamily() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        try await fixture.service.sessions.revokeSession(login.sessionID)
        let left = try counts()
        XCTAssertEqual(left["sessions"], 0)
        XCTAssertEqual(left["user_sessions"], 0)
        do {
            _ = try await fixture.service.sessions.refresh(login.refreshToken)
            XCTFail("the family is revoked")
        } catch let error as AuthError {
            XCTAssertEqual(error, .tokenRevoked)
        }
    }
}
