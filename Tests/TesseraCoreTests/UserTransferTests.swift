import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// IMPORT_USERS and EXPORT_USERS in the domain: records checked one by one, a second run that
/// changes nothing, the kept position, and the count of foreign hashes that paces refusals.
final class UserTransferTests: CoreTestCase {
    /// bcrypt (cost 4) of "correct horse", made by Python's bcrypt.
    let bcrypt = StoredPasswordTests.vectors[0].hash
    var transfers: UserTransfer { fixture.service.transfers }

    private func imported(_ name: String, hash: String? = nil, externalID: String? = nil, email: String? = nil) -> ImportedUser {
        var user = ImportedUser(username: name)
        user.passwordHash = hash ?? bcrypt
        user.profile.externalID = externalID
        user.profile.email = email
        user.createdAt = 1_672_628_645_000
        return user
    }

    private func foreign() -> ForeignPasswords.Snapshot { fixture.service.store.foreignPasswords.snapshot }

    private func storedForeign() throws -> ForeignPasswords.Snapshot {
        let store = fixture.service.store
        return try store.read { try TesseraStore.foreignPasswords(meta: store.meta, in: $0) }
    }

    func testABatchWritesItsGoodRecordsAndReportsTheOthers() async throws {
        try await fixture.createUser("taken", email: "taken@example.com")
        let batch = [
            imported("ada", externalID: "42"),
            imported("bad name!"),
            imported("carol", hash: "$1$abc$def"),
            imported("dave", email: "taken@example.com"),
            imported("erin", hash: StoredPasswordTests.vectors[7].hash),
        ]
        let outcome = try await transfers.importUsers(batch, dryRun: false, source: nil, position: nil)
        XCTAssertEqual(outcome.created, 2)
        XCTAssertEqual(outcome.unchanged, 0)
        XCTAssertEqual(outcome.rejected.map(\.index), [1, 2, 3])
        XCTAssertTrue(outcome.rejected[1].reason.contains("no scheme"), outcome.rejected[1].reason)
        XCTAssertTrue(outcome.rejected[2].reason.contains("email"), outcome.rejected[2].reason)
        let ada = try fixture.service.accounts.user(.username("ada"))
        XCTAssertEqual(ada.externalID, "42")
        XCTAssertEqual(ada.createdAt, 1_672_628_645_000)
        // Nothing hashed at import: the first login checks bcrypt and replaces it.
        _ = try await fixture.login("ada")
        _ = try await fixture.login("erin")
    }

    func testASecondRunChangesNothingAndADryRunWritesNothing() async throws {
        let batch = [imported("ada", externalID: "42"), imported("bob")]
        let dry = try await transfers.importUsers(batch, dryRun: true, source: "s", position: 2)
        XCTAssertEqual(dry.created, 2)
        XCTAssertEqual(dry.position, 0, "a dry run keeps no position")
        XCTAssertThrowsError(try fixture.service.accounts.user(.username("ada")))
        let first = try await transfers.importUsers(batch, dryRun: false, source: "s", position: 2)
        XCTAssertEqual(first.created, 2)
        XCTAssertEqual(first.position, 2)
        _ = try await fixture.login("ada")
        let second = try await transfers.importUsers(batch, dryRun: false, source: "s", position: 2)
        XCTAssertEqual(second.created, 0)
        XCTAssertEqual(second.unchanged, 2)
        XCTAssertTrue(
            try fixture.service.store.read { try fixture.service.store.user(identifier: "ada", in: $0)!.passwordHash }.hasPrefix("$argon2id$"),
            "an unchanged user keeps what its login made of it")
        // Another user of the same name is not this import's.
        let other = try await transfers.importUsers([imported("ada", externalID: "43")], dryRun: false, source: nil, position: nil)
        XCTAssertEqual(other.rejected.count, 1)
        XCTAssertTrue(other.rejected[0].reason.contains("username"), other.rejected[0].reason)
    }

    func testThePositionIsKeptWithItsBatchAndOnlyGrows() async throws {
        func position(_ source: String, keeping kept: UInt64? = nil) async throws -> UInt64 {
            try await transfers.importUsers([], dryRun: false, source: source, position: kept).position
        }
        var read = try await position("file")
        XCTAssertEqual(read, 0)
        _ = try await transfers.importUsers([imported("ada")], dryRun: false, source: "file", position: 10)
        read = try await position("file")
        XCTAssertEqual(read, 10)
        read = try await position("file", keeping: 4)
        XCTAssertEqual(read, 10, "the largest position stays")
        read = try await position("other")
        XCTAssertEqual(read, 0)
        await assertThrowsAsync(try await transfers.importUsers([], dryRun: false, source: String(repeating: "x", count: 129), position: 1)) {
            XCTAssertEqual($0 as? AuthError, .invalidArgument("source must be 1 to 128 bytes"))
        }
    }

    func testForeignHashesAreCountedUntilReplacedAndTheirCostsKept() async throws {
        XCTAssertFalse(foreign().isActive)
        let hashes = [bcrypt, StoredPasswordTests.vectors[1].hash, StoredPasswordTests.vectors[7].hash, StoredPasswordTests.vectors[9].hash]
        let batch = hashes.enumerated().map { imported("user\($0.offset)", hash: $0.element) }
        _ = try await transfers.importUsers(batch, dryRun: false, source: nil, position: nil)
        // Three foreign hashes (argon2i is not one: it is argon2, checked as after a change of
        // parameters) of three costs ($2a$ and $2b$ are two methods).
        var stored = try storedForeign()
        XCTAssertEqual(stored.count, 3)
        XCTAssertEqual(Set(stored.dummies.keys), ["$2b$04", "$2a$04", "pbkdf2-sha256$1000$32"])
        XCTAssertEqual(foreign().count, 3, "the memory copy follows the commit")
        XCTAssertEqual(foreign().dummies, stored.dummies)
        for (_, dummy) in stored.dummies {
            let parsed = try XCTUnwrap(StoredPassword(parsing: dummy))
            XCTAssertFalse(parsed.verify(CoreFixture.secret("correct horse"), hasher: fixture.service.configuration.passwordHasher))
        }
        _ = try await fixture.login("user0")
        _ = try await fixture.login("user2")
        XCTAssertEqual(try storedForeign().count, 1)
        try await fixture.service.accounts.deleteUser(.username("user1"))
        stored = try storedForeign()
        XCTAssertEqual(stored.count, 0)
        XCTAssertEqual(stored.dummies, [:], "no foreign hash left: the dummies go")
        XCTAssertFalse(foreign().isActive)
        XCTAssertEqual(foreign().dummies, [:])
        try fixture.reopen()
        XCTAssertFalse(fixture.service.store.foreignPasswords.snapshot.isActive)
    }

    func testTheCountSurvivesAReopen() async throws {
        _ = try await transfers.importUsers([imported("ada")], dryRun: false, source: nil, position: nil)
        try fixture.reopen()
        let snapshot = fixture.service.store.foreignPasswords.snapshot
        XCTAssertEqual(snapshot.count, 1)
        XCTAssertEqual(Array(snapshot.dummies.keys), ["$2b$04"])
    }

    func testAnImportedSecondFactorAsksForItsCodeAndExportGivesItBack() async throws {
        let secret = Array("12345678901234567890".utf8)
        var user = imported("ada", externalID: "42")
        user.totpSecret = secret
        user.profile.roles = ["admin"]
        user.profile.settings = ["theme": "dark"]
        _ = try await transfers.importUsers([user], dryRun: false, source: nil, position: nil)
        await assertThrowsAsync(try await fixture.login("ada")) { XCTAssertEqual($0 as? AuthError, .twoFactorRequired) }
        let code = TOTP(secret: secret).code(at: fixture.clock.now())
        _ = try await fixture.service.sessions.login(
            LoginAttempt(identifier: "ada", password: CoreFixture.secret("correct horse"), secondFactor: .code(code)))

        let (withoutSecrets, next) = try transfers.exportUsers(after: 0, limit: 10, withTwoFactorSecrets: false)
        XCTAssertNil(next)
        XCTAssertEqual(withoutSecrets.count, 1)
        XCTAssertNil(withoutSecrets[0].totpSecret)
        let exported = try transfers.exportUsers(after: 0, limit: 10, withTwoFactorSecrets: true).0[0]
        XCTAssertEqual(exported.totpSecret, secret)
        XCTAssertEqual(exported.username, "ada")
        XCTAssertEqual(exported.profile.externalID, "42")
        XCTAssertEqual(exported.profile.roles, ["admin"])
        XCTAssertEqual(exported.profile.settings, ["theme": "dark"])
        XCTAssertEqual(exported.createdAt, 1_672_628_645_000)
        XCTAssertTrue(exported.passwordHash?.hasPrefix("$argon2id$") == true, "the login replaced the bcrypt hash")
    }

    func testExportPagesInIDOrder() async throws {
        _ = try await transfers.importUsers((0..<5).map { imported("user\($0)") }, dryRun: false, source: nil, position: nil)
        let (first, next) = try transfers.exportUsers(after: 0, limit: 3, withTwoFactorSecrets: false)
        XCTAssertEqual(first.map(\.username), ["user0", "user1", "user2"])
        let (rest, end) = try transfers.exportUsers(after: try XCTUnwrap(next), limit: 3, withTwoFactorSecrets: false)
        XCTAssertEqual(rest.map(\.username), ["user3", "user4"])
        XCTAssertNil(end)
    }
}
