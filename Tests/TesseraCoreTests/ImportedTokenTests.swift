import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// Another system's tokens imported with their users (IMPORT_USERS): a login token that
/// verifies as a session of its user and ends as one, a personal access token that verifies as
/// an API key, expiry carried over, backup codes that work once each, and a store that holds
/// neither a token nor the other system's digest of it.
final class ImportedTokenTests: CoreTestCase {
    /// Rocket.Chat-style login tokens: 43 characters, as `Random.secret()` makes them.
    let loginToken = "kJ3bq9Zr0xWcPmE5vTnY7uLs2AaDfGhQ1iOoRtUyV8w"
    let accessToken = "pat-4cE2r9XbN6mQ0zLk8YwT3vJs5HdGf7Ua1ZpRqWx"
    var transfers: UserTransfer { fixture.service.transfers }
    var verification: Verification { fixture.service.verification }

    private func sha256(_ text: String) -> [UInt8] { Array(text.utf8).withUnsafeBytes { SHA256.digest($0) } }

    private func user(_ name: String, sessions: [String] = [], apiKeys: [String] = [], lifetime: Int64 = 86_400_000) -> ImportedUser {
        let now = fixture.clock.now()
        var user = ImportedUser(username: name)
        user.passwordHash = StoredPasswordTests.vectors[0].hash
        user.profile.roles = ["editor"]
        user.sessions = sessions.map { ImportedSession(tokenSHA256: sha256($0), createdAt: now - 1000, expiresAt: now + lifetime) }
        user.apiKeys = apiKeys.map { ImportedAPIKey(tokenSHA256: sha256($0), name: "ci", createdAt: now - 1000) }
        return user
    }

    private func assertRefused(_ token: String, _ expected: AuthError, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try verification.verify(token: token), file: file, line: line) {
            XCTAssertEqual($0 as? AuthError, expected, file: file, line: line)
        }
    }

    func testAnImportedLoginTokenVerifiesAsASessionOfItsUserUntilLogout() async throws {
        assertRefused(loginToken, .tokenInvalid)
        XCTAssertFalse(fixture.service.store.holdsImportedTokens, "no import yet: a token of another form is not looked up")
        let outcome = try await transfers.importUsers([user("ada", sessions: [loginToken])], dryRun: false, source: nil, position: nil)
        XCTAssertEqual(outcome.created, 1)
        XCTAssertEqual(outcome.sessions, 1)
        XCTAssertTrue(fixture.service.store.holdsImportedTokens)
        let ada = try fixture.service.accounts.user(.username("ada"))

        let verified = try verification.verify(token: loginToken)
        XCTAssertEqual(verified.userID, ada.id)
        XCTAssertEqual(verified.roles, ["editor"])
        XCTAssertNil(verified.apiKeyName)
        XCTAssertEqual(verified.expiresAt, fixture.clock.now() + 86_400_000)
        // One character off, or the token's SHA-256 presented as a token: nothing.
        assertRefused(String(loginToken.dropLast()) + "x", .tokenInvalid)
        assertRefused(Base64URL.encode(sha256(loginToken)), .tokenInvalid)
        // Native sessions are untouched by the import.
        let native = try await fixture.login("ada")
        XCTAssertEqual(try verification.verify(token: native.token).userID, ada.id)

        // Listed with the user's sessions, and ended by a logout with the same text.
        let (listed, _) = try fixture.service.sessions.list(of: .username("ada"), limit: 10)
        XCTAssertEqual(Set(listed.map(\.id)), [verified.sessionID, native.sessionID])
        try await fixture.service.sessions.logout(token: loginToken)
        assertRefused(loginToken, .tokenInvalid)
        await assertThrowsAsync(try await fixture.service.sessions.logout(token: loginToken)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        XCTAssertEqual(try verification.verify(token: native.token).userID, ada.id)
    }

    func testExpiryCarriesOverAndATokenAlreadyExpiredIsLeftOut() async throws {
        var ada = user("ada", sessions: [loginToken], lifetime: 60_000)
        ada.sessions.append(ImportedSession(tokenSHA256: sha256("stale"), createdAt: 0, expiresAt: fixture.clock.now()))
        let outcome = try await transfers.importUsers([ada], dryRun: false, source: nil, position: nil)
        XCTAssertEqual(outcome.sessions, 1, "the expired one is not written")
        assertRefused("stale", .tokenInvalid)
        _ = try verification.verify(token: loginToken)
        fixture.clock.advance(by: 60_000)
        assertRefused(loginToken, .tokenExpired)
    }

    func testAnImportedAccessTokenIsAnAPIKeyWithTheUsersRoles() async throws {
        _ = try await transfers.importUsers([user("ada", apiKeys: [accessToken])], dryRun: false, source: nil, position: nil)
        let verified = try verification.verify(token: accessToken)
        XCTAssertEqual(verified.apiKeyName, "ci")
        XCTAssertEqual(verified.roles, ["editor"])
        XCTAssertEqual(verified.expiresAt, 0)
        let keys = try fixture.service.apiKeys.list(.username("ada"))
        XCTAssertEqual(keys.map(\.id), [APIKeyID(reinterpreting: verified.sessionID)])
        _ = try await fixture.service.apiKeys.revoke(keys[0].id)
        assertRefused(accessToken, .tokenRevoked)
        // A session logout does not take an API key.
        await assertThrowsAsync(try await fixture.service.sessions.logout(token: accessToken)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
    }

    func testASecondRunWritesNoTokenTwiceAndTheyOutliveARestart() async throws {
        let batch = [user("ada", sessions: [loginToken], apiKeys: [accessToken])]
        let first = try await transfers.importUsers(batch, dryRun: false, source: nil, position: nil)
        XCTAssertEqual([first.created, first.sessions, first.apiKeys], [1, 1, 1])
        let second = try await transfers.importUsers(batch, dryRun: false, source: nil, position: nil)
        XCTAssertEqual([second.unchanged, second.sessions, second.apiKeys], [1, 0, 0])
        // The same token under another user is not taken twice either.
        let other = try await transfers.importUsers([user("bob", sessions: [loginToken])], dryRun: false, source: nil, position: nil)
        XCTAssertEqual([other.created, other.sessions], [1, 0])
        let ada = try fixture.service.accounts.user(.username("ada")).id
        try fixture.reopen()
        XCTAssertTrue(fixture.service.store.holdsImportedTokens, "the flag is stored")
        XCTAssertEqual(try verification.verify(token: loginToken).userID, ada)
        XCTAssertEqual(try verification.verify(token: accessToken).userID, ada)
    }

    func testDeletingTheUserEndsItsImportedTokens() async throws {
        _ = try await transfers.importUsers([user("ada", sessions: [loginToken], apiKeys: [accessToken])], dryRun: false, source: nil, position: nil)
        try await fixture.service.accounts.deleteUser(.username("ada"))
        assertRefused(loginToken, .tokenInvalid)
        assertRefused(accessToken, .tokenInvalid)
    }

    func testBadTokensAndCodesRejectTheirRecordAlone() async throws {
        var short = user("short")
        short.sessions = [ImportedSession(tokenSHA256: [1, 2, 3], createdAt: 0, expiresAt: fixture.clock.now() + 1000)]
        var backwards = user("backwards")
        backwards.sessions = [ImportedSession(tokenSHA256: sha256("x"), createdAt: 5000, expiresAt: 4000)]
        let twice = user("twice", sessions: ["same"], apiKeys: ["same"])
        var codes = user("codes")
        codes.recoveryCodeDigests = [sha256("12345678")]
        let many = user("many", sessions: (0...UserTransfer.maximumSessions).map { "token \($0)" })
        let outcome = try await transfers.importUsers(
            [short, backwards, twice, codes, many, user("fine")], dryRun: false, source: nil, position: nil)
        XCTAssertEqual(outcome.created, 1)
        XCTAssertEqual(
            outcome.rejected.map(\.reason),
            [
                "session 0: token_sha256 must be 32 bytes",
                "session 0: created_at and expires_at must be Unix milliseconds, expiry after creation",
                "a token appears twice",
                "recovery codes come with a TOTP secret",
                "at most 100 sessions a user, not 101",
            ])
    }

    func testImportedBackupCodesWorkOnceEach() async throws {
        let secret = Array("12345678901234567890".utf8)
        var ada = user("ada")
        ada.totpSecret = secret
        ada.recoveryCodeDigests = [sha256("a1b2c3d4"), sha256("e5f6a7b8")]
        _ = try await transfers.importUsers([ada], dryRun: false, source: nil, position: nil)
        XCTAssertEqual(try fixture.service.twoFactor.status(.username("ada")).recoveryCodesLeft, 2)

        func login(_ proof: TwoFactorProof) async throws -> LoginResult {
            var attempt = LoginAttempt(identifier: "ada", password: CoreFixture.secret("correct horse"))
            attempt.secondFactor = proof
            return try await fixture.service.sessions.login(attempt)
        }
        // Rocket.Chat compares the code as typed: no folding of case.
        await assertThrowsAsync(try await login(.recoveryCode("A1B2C3D4"))) { XCTAssertEqual($0 as? AuthError, .twoFactorInvalid) }
        let used = try await login(.recoveryCode(" a1b2c3d4 "))
        XCTAssertEqual(used.recoveryCodesLeft, 1)
        await assertThrowsAsync(try await login(.recoveryCode("a1b2c3d4"))) { XCTAssertEqual($0 as? AuthError, .twoFactorInvalid) }
        // The TOTP secret is the user's own: its current code logs in.
        let code = TOTP(secret: secret, algorithm: .sha1, digits: 6).code(at: fixture.clock.now())
        _ = try await login(.code(code))
        let other = try await login(.recoveryCode("e5f6a7b8"))
        XCTAssertEqual(other.recoveryCodesLeft, 0)
    }

    func testTheStoreHoldsNeitherTheTokensNorTheirSHA256() async throws {
        let codeDigest = sha256("a1b2c3d4")
        var ada = user("ada", sessions: [loginToken], apiKeys: [accessToken])
        ada.totpSecret = Array("12345678901234567890".utf8)
        ada.recoveryCodeDigests = [codeDigest]
        _ = try await transfers.importUsers([ada], dryRun: false, source: nil, position: nil)
        try fixture.reopen()
        let file = try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/data.mdb"))
        for needle in [Array(loginToken.utf8), Array(accessToken.utf8), sha256(loginToken), sha256(accessToken), codeDigest, Array("a1b2c3d4".utf8)] {
            XCTAssertNil(file.firstRange(of: Data(needle)), "data.mdb holds \(needle)")
        }
        XCTAssertNotNil(file.firstRange(of: Data("ada".utf8)), "the search reads the file")
    }
}
