import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class UserTests: CoreTestCase {
    func testUsernamesAndEmailsAreUniqueIgnoringCase() async throws {
        try await fixture.createUser("alice", email: "a@example.com")
        for (name, email) in [("ALICE", "other@example.com"), ("bob", "A@EXAMPLE.COM")] {
            do {
                try await fixture.createUser(name, email: email)
                XCTFail("\(name) must conflict")
            } catch let error as AuthError {
                switch error {
                case .conflict(let why), .addressTaken(let why): XCTAssertTrue(why.contains(name == "bob" ? "email" : "username"))
                default: XCTFail("\(error)")
                }
                if case .addressTaken = error { XCTAssertEqual(name, "bob", "an address clash") }
            }
        }
        let bob = try await fixture.createUser("bob", email: "b@example.com")
        XCTAssertEqual(bob.id, 2)
    }

    func testBadInputIsRefusedWithAReason() async throws {
        let cases: [(String, String, String?, [String])] = [
            ("", "correct horse", nil, []),
            (String(repeating: "a", count: 65), "correct horse", nil, []),
            ("has space", "correct horse", nil, []),
            ("alice", "short", nil, []),
            ("alice", String(repeating: "p", count: 1025), nil, []),
            ("alice", "correct horse", "no-at-sign", []),
            ("alice", "correct horse", "two@@example.com", []),
            ("alice", "correct horse", nil, ["has space"]),
        ]
        for (name, password, email, roles) in cases {
            do {
                try await fixture.createUser(name, password: password, email: email, roles: roles)
                XCTFail("must refuse \(name) / \(email ?? "-") / \(roles)")
            } catch let AuthError.invalidArgument(why) {
                XCTAssertFalse(why.isEmpty)
            }
        }
    }

    func testLookupByIdUsernameAndEmail() async throws {
        let alice = try await fixture.createUser("alice", email: "a@example.com")
        XCTAssertEqual(try fixture.service.accounts.user(.id(alice.id)), alice)
        XCTAssertEqual(try fixture.service.accounts.user(.username("Alice")), alice)
        XCTAssertEqual(try fixture.service.accounts.user(.email("A@example.com")), alice)
        XCTAssertThrowsError(try fixture.service.accounts.user(.username("nobody"))) { XCTAssertEqual($0 as? AuthError, .notFound("user")) }
    }

    func testUserRecordRoundTripAndForwardCompatibility() throws {
        let record = UserRecord(
            id: 7, createdAt: 1, updatedAt: 2, state: .active, passwordHash: "$argon2id$x", username: "u",
            email: nil, displayName: "D", roles: ["r1", "r2"])
        var bytes = record.encoded()
        XCTAssertEqual(try bytes.withUnsafeBytes { try UserRecord(decoding: $0) }, record)
        // A newer writer appends fields: this reader ignores them.
        bytes.append(contentsOf: [0xde, 0xad])
        XCTAssertEqual(try bytes.withUnsafeBytes { try UserRecord(decoding: $0) }, record)
        // A truncated record is an error, not garbage.
        XCTAssertThrowsError(try Array(bytes.prefix(10)).withUnsafeBytes { try UserRecord(decoding: $0) })
    }
}
