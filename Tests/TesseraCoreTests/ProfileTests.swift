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
}
