import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class ProfileTests: CoreTestCase {
    private func newUser(_ name: String, phone: String? = nil, unvalidated: Bool = false) -> NewUser {
        var user = NewUser(username: name, password: CoreFixture.secret("correct horse"), email: "\(name)@example.com", roles: ["member"])
        user.profile.phone = phone
        user.profile.imageURL = "https://example.com/\(name).png"
        user.profile.accountType = .service
        user.profile.rootRole = "Editor"
        user.profile.externalID = "scim-\(name)"
        user.profile.settings = ["theme": "dark", "lang": "fr"]
        user.unvalidated = unvalidated
        return user
    }

    func testProfileFieldsRoundTripAndLoginByPhone() async throws {
        let created = try await fixture.service.accounts.createUser(newUser("alice", phone: "+33612345678"))
        XCTAssertEqual(created.phone, "+33612345678")
        XCTAssertEqual(created.accountType, .service)
        XCTAssertEqual(created.rootRole, "Editor")
        XCTAssertEqual(created.externalID, "scim-alice")
        XCTAssertEqual(created.settings, ["theme": "dark", "lang": "fr"])
        XCTAssertEqual(try fixture.service.accounts.user(.phone("+33612345678")).id, created.id)
        fixture.clock.advance(by: 5000)
        let login = try await fixture.login("+33612345678")
        XCTAssertEqual(login.user.id, created.id)
        XCTAssertEqual(try fixture.service.accounts.user(.id(created.id)).lastLoginAt, fixture.clock.now())
    }

    func testUniquePhone() async throws {
        _ = try await fixture.service.accounts.createUser(newUser("alice", phone: "+33612345678"))
        do {
            _ = try await fixture.service.accounts.createUser(newUser("bob", phone: "+33612345678"))
            XCTFail("phone must be unique")
        } catch let AuthError.addressTaken(why) {
            XCTAssertTrue(why.contains("phone"))
        }
        do {
            _ = try await fixture.service.accounts.createUser(newUser("carol", phone: "0612"))
            XCTFail("phone must be E.164")
        } catch let AuthError.invalidArgument(why) {
            XCTAssertTrue(why.contains("E.164"))
        }
    }

    func testUpdateProfileReindexesAndUpdatesLiveSessionsRoles() async throws {
        _ = try await fixture.service.accounts.createUser(newUser("alice", phone: "+33612345678"))
        let login = try await fixture.login("alice")
        var changes = ProfileChanges()
        changes.email = "new@example.com"
        changes.phone = ""
        changes.displayName = "Alice A."
        changes.roles = ["admin", "member"]
        changes.settings = ["theme": "light"]
        let updated = try await fixture.service.accounts.updateProfile(.username("alice"), changes)
        XCTAssertEqual(updated.email, "new@example.com")
        XCTAssertNil(updated.phone)
        XCTAssertEqual(updated.displayName, "Alice A.")
        XCTAssertEqual(updated.settings, ["theme": "light"])
        XCTAssertEqual(updated.rootRole, "Editor", "fields not given are left alone")
        XCTAssertThrowsError(try fixture.service.accounts.user(.email("alice@example.com")))
        XCTAssertThrowsError(try fixture.service.accounts.user(.phone("+33612345678")))
        XCTAssertEqual(try fixture.service.accounts.user(.email("NEW@example.com")).id, updated.id)
        XCTAssertEqual(try fixture.service.verification.verify(token: login.token).roles, ["admin", "member"], "live sessions see the new roles")
        _ = try await fixture.service.accounts.createUser(newUser("bob", phone: "+33612345678"))  // the phone is free again
    }

    func testUnvalidatedRegistrationAndValidation() async throws {
        let (user, issued) = try await fixture.service.accounts.register(newUser("alice", unvalidated: true))
        XCTAssertEqual(user.state, .unvalidated)
        let first = try XCTUnwrap(issued)
        XCTAssertEqual(first.expiresAt, fixture.clock.now() + 24 * 3600 * 1000, "24 hours by default")
        do {
            _ = try await fixture.login("alice")
            XCTFail("unvalidated")
        } catch AuthError.accountNotValidated {
            // No code: a login, which anyone with the password can make, never hands one out.
        }
        let fresh = try await fixture.service.accounts.newValidationCode(for: .email("alice@example.com")).code
        XCTAssertNotEqual(fresh.code, first.code)
        await assertThrowsAsync(try await fixture.service.accounts.validate(code: first.code)) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid, "the first code was replaced by the fresh one")
        }
        let validated = try await fixture.service.accounts.validate(code: fresh.code)
        XCTAssertEqual(validated.state, .active)
        await assertThrowsAsync(try await fixture.service.accounts.newValidationCode(for: .username("alice"))) {
            XCTAssertEqual($0 as? AuthError, .notFound("no account waiting for validation"), "validated: nothing to resend")
        }
        await assertThrowsAsync(try await fixture.service.accounts.newValidationCode(for: .username("nobody"))) {
            XCTAssertEqual($0 as? AuthError, .notFound("no account waiting for validation"), "the same answer for no account")
        }
        XCTAssertThrowsError(try fixture.service.accounts.user(.username("nobody")))
    }

    func testAValidationCodeExpires() async throws {
        let fixture = try CoreFixture { $0.validationCodeLifetimeSeconds = 600 }
        defer { fixture.tearDown() }
        let (_, issued) = try await fixture.service.accounts.register(newUser("alice", unvalidated: true))
        let code = try XCTUnwrap(issued)
        XCTAssertEqual(code.expiresAt, fixture.clock.now() + 600_000)
        fixture.clock.advance(by: 600_000)
        await assertThrowsAsync(try await fixture.service.accounts.validate(code: code.code)) {
            XCTAssertEqual($0 as? AuthError, .tokenExpired)
        }
        let fresh = try await fixture.service.accounts.newValidationCode(for: .username("alice")).code
        fixture.clock.advance(by: 599_999)
        let validated = try await fixture.service.accounts.validate(code: fresh.code)
        XCTAssertEqual(validated.state, .active)
    }

    func testFailedLoginCountIsReported() async throws {
        _ = try await fixture.service.accounts.createUser(newUser("alice"))
        _ = try? await fixture.login("alice", password: "wrong")
        _ = try? await fixture.login("alice", password: "wrong")
        XCTAssertEqual(try fixture.service.accounts.user(.username("alice")).failedLogins, 2)
    }

    func testRecordsWrittenBeforeTheProfileFieldsStillRead() throws {
        var writer = RecordWriter(version: 1)
        writer.write(UInt64(3))
        writer.write(Int64(10))
        writer.write(Int64(11))
        writer.write(AccountState.active.rawValue)
        writer.write(string: "$argon2id$x")
        writer.write(string: "old")
        writer.write(string: nil)
        writer.write(string: nil)
        writer.write(shortStrings: ["r"])
        let record = try writer.bytes.withUnsafeBytes { try UserRecord(decoding: $0) }
        XCTAssertEqual(record.username, "old")
        XCTAssertNil(record.phone)
        XCTAssertEqual(record.accountType, .user)
        XCTAssertEqual(record.settings, [:])
        XCTAssertEqual(record.lastLoginAt, 0)
    }

    func testAttributesAreSetAndRemovedByNameAndTheOthersStay() async throws {
        var new = newUser("alice")
        new.profile.attributes = ["title": .string("Dr"), "rank": .number(3.5), "vip": .bool(true)]
        let created = try await fixture.service.accounts.createUser(new)
        XCTAssertEqual(created.attributes, ["title": .string("Dr"), "rank": .number(3.5), "vip": .bool(true)])

        var changes = ProfileChanges()
        changes.attributes = ["title": .string("Prof"), "born": .date(milliseconds: 641_520_000_000)]
        changes.removedAttributes = ["vip", "never-set"]
        let updated = try await fixture.service.accounts.updateProfile(.username("alice"), changes)
        XCTAssertEqual(updated.attributes, ["title": .string("Prof"), "rank": .number(3.5), "born": .date(milliseconds: 641_520_000_000)])
        XCTAssertEqual(try fixture.service.accounts.user(.username("alice")).attributes, updated.attributes, "as stored")
        XCTAssertEqual(updated.settings, ["theme": "dark", "lang": "fr"], "settings are not attributes")

        // A change without attributes leaves them alone.
        var rename = ProfileChanges()
        rename.displayName = "Alice"
        let renamed = try await fixture.service.accounts.updateProfile(.username("alice"), rename)
        XCTAssertEqual(renamed.attributes, updated.attributes)
    }

    func testAttributesPastTheirLimitsAreRefusedNamingTheLimitAndChangeNothing() async throws {
        _ = try await fixture.service.accounts.createUser(newUser("alice"))
        var full = ProfileChanges()
        full.attributes = Dictionary(uniqueKeysWithValues: (0..<32).map { ("a\($0)", AttributeValue.bool(true)) })
        _ = try await fixture.service.accounts.updateProfile(.username("alice"), full)

        func refusal(_ changes: ProfileChanges) async throws -> String {
            do {
                _ = try await fixture.service.accounts.updateProfile(.username("alice"), changes)
                XCTFail("accepted")
                return ""
            } catch let AuthError.invalidArgument(why) {
                return why
            }
        }
        var one = ProfileChanges()
        one.attributes = ["a32": .bool(false)]
        let thirtyThird = try await refusal(one)
        XCTAssertEqual(thirtyThird, "a user may have at most 32 attributes, not 33", "the 33rd, although it is valid alone")
        one.removedAttributes = ["a0"]
        let swapped = try await fixture.service.accounts.updateProfile(.username("alice"), one)
        XCTAssertEqual(swapped.attributes.count, 32, "one out, one in")

        var cases: [(ProfileChanges, String)] = []
        var change = ProfileChanges()
        change.attributes = ["notes": .string(String(repeating: "n", count: 1025))]
        cases.append((change, "attribute notes: a string attribute is at most 1024 bytes, not 1025"))
        change.attributes = ["rank": .number(.nan)]
        cases.append((change, "attribute rank: a number attribute must be finite"))
        change.attributes = ["rank": .number(-.infinity)]
        cases.append((change, "attribute rank: a number attribute must be finite"))
        change.attributes = ["born": .date(milliseconds: AttributeLimits.dates.upperBound + 1)]
        cases.append((change, "attribute born: a date attribute must lie between the years 1 and 9999"))
        change.attributes = ["has space": .bool(true)]
        cases.append((change, "an attribute name is 1 to 64 printable ASCII characters without spaces"))
        change.attributes = [String(repeating: "x", count: 65): .bool(true)]
        cases.append((change, "an attribute name is 1 to 64 printable ASCII characters without spaces"))
        change.attributes = ["title": .string("Dr")]
        change.removedAttributes = ["title"]
        cases.append((change, "attribute title is both set and removed"))
        change.removedAttributes = []
        change.attributes = Dictionary(uniqueKeysWithValues: (0..<9).map { ("s\($0)", AttributeValue.string(String(repeating: "v", count: 1000))) })
        cases.append((change, "attributes may hold at most 8192 bytes of names and values in all, not 9018"))
        let before = try fixture.service.accounts.user(.username("alice"))
        for (changes, expected) in cases {
            let why = try await refusal(changes)
            XCTAssertEqual(why, expected)
        }
        XCTAssertEqual(try fixture.service.accounts.user(.username("alice")), before, "no refused change wrote anything")
    }

    func testTheTotalOfAttributesCountsWhatTheUserWouldHoldAfterTheChange() async throws {
        _ = try await fixture.service.accounts.createUser(newUser("alice"))
        var half = ProfileChanges()
        half.attributes = Dictionary(uniqueKeysWithValues: (0..<4).map { ("s\($0)", AttributeValue.string(String(repeating: "v", count: 1000))) })
        _ = try await fixture.service.accounts.updateProfile(.username("alice"), half)
        var more = ProfileChanges()
        more.attributes = Dictionary(uniqueKeysWithValues: (4..<9).map { ("s\($0)", AttributeValue.string(String(repeating: "v", count: 1000))) })
        do {
            _ = try await fixture.service.accounts.updateProfile(.username("alice"), more)
            XCTFail("4,008 + 5,010 bytes are past 8,192")
        } catch let AuthError.invalidArgument(why) {
            XCTAssertEqual(why, "attributes may hold at most 8192 bytes of names and values in all, not 9018")
        }
        more.removedAttributes = ["s0"]
        let swapped = try await fixture.service.accounts.updateProfile(.username("alice"), more)
        XCTAssertEqual(swapped.attributes.count, 8)
    }

    func testAttributesOfEveryKindSurviveTheRecordAndARecordWithoutThemReadsEmpty() throws {
        var record = UserRecord(
            id: 7, createdAt: 1, updatedAt: 2, state: .active, passwordHash: "$argon2id$x", username: "a", email: nil, displayName: nil,
            roles: [])
        record.attributes = [
            "s": .string("text"), "empty": .string(""), "n": .number(-0.25), "big": .number(1e300), "t": .bool(true), "f": .bool(false),
            "d": .date(milliseconds: AttributeLimits.dates.lowerBound),
        ]
        let bytes = record.encoded()
        XCTAssertEqual(try bytes.withUnsafeBytes { try UserRecord(decoding: $0) }, record)
        record.attributes = [:]
        let without = record.encoded()
        XCTAssertEqual(try without.withUnsafeBytes { try UserRecord(decoding: $0) }.attributes, [:])
        // A record written before attributes existed ends after the validation expiry.
        XCTAssertEqual(try without.dropLast().withUnsafeBytes { try UserRecord(decoding: $0) }.attributes, [:])
    }
}
