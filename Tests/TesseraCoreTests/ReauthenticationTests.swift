import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// Adding a credential from a session (an API key, a second factor) needs the user's password,
/// and the second factor when one is enrolled, checked as a login checks them: under the
/// account's lock, wrong ones counted, a code spent by the request that used it. A real store,
/// a manual clock.
final class ReauthenticationTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.lockout = LockoutPolicy(threshold: 3, baseDelaySeconds: 30, maximumDelaySeconds: 120)
    }

    override func prepare() async throws {
        try await fixture.createUser("alice", email: "alice@example.com")
    }

    private func proof(_ password: String = "correct horse", _ secondFactor: TwoFactorProof? = nil) -> Reauthentication {
        Reauthentication(password: CoreFixture.secret(password), secondFactor: secondFactor)
    }

    private func createKey(_ proof: Reauthentication?) async throws -> APIKeyInfo {
        try await fixture.service.apiKeys.create(.username("alice"), NewAPIKey(name: "k"), reauthenticatedBy: proof).info
    }

    private func assertFails<T>(
        _ expected: AuthError, _ body: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) async {
        await assertThrowsAsync(try await body(), file: file, line: line) { XCTAssertEqual($0 as? AuthError, expected, file: file, line: line) }
    }

    private var keyCount: Int { get throws { try fixture.service.apiKeys.list(.username("alice")).count } }

    func testAKeyNeedsTheRightPasswordAndWrongOnesLockTheAccount() async throws {
        await assertFails(.badCredentials, try await createKey(proof("wrong")))
        await assertFails(.badCredentials, try await createKey(proof("wrong")))
        XCTAssertEqual(try keyCount, 0)
        _ = try await createKey(proof())
        XCTAssertEqual(try keyCount, 1, "the right password makes the key (and clears the two failures)")
        for _ in 0..<3 { await assertFails(.badCredentials, try await createKey(proof("wrong"))) }
        // Locked: even the right password is not looked at, and a login is refused as well.
        let locked = await failure(of: try await self.createKey(self.proof()))
        guard case .locked = locked else { return XCTFail("the account is locked, not \(String(describing: locked))") }
        XCTAssertEqual(try keyCount, 1)
        fixture.clock.advance(by: 31_000)
        _ = try await createKey(proof())
        XCTAssertEqual(try keyCount, 2)
        let byAdministrator = try await createKey(nil)
        XCTAssertEqual(byAdministrator.name, "k", "an administrator proves nothing")
    }

    func testWithASecondFactorAKeyNeedsACodeThatIsSpentByTheRequest() async throws {
        let twoFactor = fixture.service.twoFactor
        let enrolment = try await twoFactor.enrol(.username("alice"), reauthenticatedBy: proof())
        let app = TOTP(secret: try XCTUnwrap(Base32.decode(enrolment.secret)), algorithm: enrolment.algorithm, digits: enrolment.digits)
        let recovery = try await twoFactor.confirm(.username("alice"), code: app.code(at: fixture.clock.now()), reauthenticatedBy: proof())
        fixture.clock.advance(by: 30_000)

        await assertFails(.twoFactorRequired, try await createKey(proof()))
        await assertFails(.twoFactorInvalid, try await createKey(proof("correct horse", .code("000000"))))
        let code = app.code(at: fixture.clock.now())
        _ = try await createKey(proof("correct horse", .code(code)))
        await assertFails(.twoFactorInvalid, try await createKey(proof("correct horse", .code(code))))
        _ = try await createKey(proof("correct horse", .recoveryCode(recovery[0])))
        await assertFails(.twoFactorInvalid, try await createKey(proof("correct horse", .recoveryCode(recovery[0]))))
        XCTAssertEqual(try twoFactor.status(.username("alice")).recoveryCodesLeft, recovery.count - 1)
        XCTAssertEqual(try keyCount, 2)
        // Wrong and replayed codes count like wrong passwords (a success clears the count): the
        // replayed recovery code, a wrong password and a wrong code lock (threshold 3).
        await assertFails(.badCredentials, try await createKey(proof("wrong")))
        await assertFails(.twoFactorInvalid, try await createKey(proof("correct horse", .code("000000"))))
        let next = app.code(at: fixture.clock.now() + 30_000)
        let locked = await failure(of: try await self.createKey(self.proof("correct horse", .code(next))))
        guard case .locked = locked else { return XCTFail("three failures lock, not \(String(describing: locked))") }
    }

    func testEnrolmentAndConfirmationNeedThePassword() async throws {
        let twoFactor = fixture.service.twoFactor
        await assertFails(.badCredentials, try await twoFactor.enrol(.username("alice"), reauthenticatedBy: proof("wrong")))
        XCTAssertNil(try twoFactor.status(.username("alice")).state, "nothing enrolled on a wrong password")
        let enrolment = try await twoFactor.enrol(.username("alice"), reauthenticatedBy: proof())
        let app = TOTP(secret: try XCTUnwrap(Base32.decode(enrolment.secret)), algorithm: enrolment.algorithm, digits: enrolment.digits)
        let code = app.code(at: fixture.clock.now())
        await assertFails(.badCredentials, try await twoFactor.confirm(.username("alice"), code: code, reauthenticatedBy: proof("wrong")))
        XCTAssertEqual(try twoFactor.status(.username("alice")).state, .pending)
        _ = try await twoFactor.confirm(.username("alice"), code: code, reauthenticatedBy: proof())
        XCTAssertEqual(try twoFactor.status(.username("alice")).state, .enrolled)
        // Enrolling again needs the enrolled factor first, then is a conflict.
        await assertFails(.twoFactorRequired, try await twoFactor.enrol(.username("alice"), reauthenticatedBy: proof()))
    }

    /// The error `body` fails with; `nil` (and a failed test) when it succeeds or fails otherwise.
    private func failure<T>(of body: @autoclosure () async throws -> T, line: UInt = #line) async -> AuthError? {
        do {
            _ = try await body()
            XCTFail("expected a failure", line: line)
        } catch let error as AuthError {
            return error
        } catch {
            XCTFail("\(error)", line: line)
        }
        return nil
    }
}
