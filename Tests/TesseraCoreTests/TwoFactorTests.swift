import Foundation
import SodiumKit
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// Two-factor login over a real store with a manual clock: enrolment and its confirmation,
/// codes at login (required, accepted once, one step of drift, counted as failures), recovery
/// codes, disabling, and the sealing key's rotation.
final class TwoFactorTests: CoreTestCase {
    var twoFactor: TwoFactor { fixture.service.twoFactor }

    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.lockout = LockoutPolicy(threshold: 5, baseDelaySeconds: 30, maximumDelaySeconds: 120)
    }

    override func prepare() async throws {
        try await fixture.createUser("alice", email: "alice@example.com")
    }

    /// The authenticator app's view of an enrolment: its secret read back from Base32.
    private func authenticator(_ enrolment: TwoFactorEnrolment) throws -> TOTP {
        TOTP(secret: try XCTUnwrap(Base32.decode(enrolment.secret)), algorithm: enrolment.algorithm, digits: enrolment.digits)
    }

    private func login(_ proof: TwoFactorProof?, password: String = "correct horse") async throws -> LoginResult {
        var attempt = LoginAttempt(identifier: "alice", password: CoreFixture.secret(password))
        attempt.secondFactor = proof
        return try await fixture.service.sessions.login(attempt)
    }

    /// Enrols alice and confirms with the current code; returns the app and the recovery codes.
    private func enrol(_ options: TwoFactorOptions = TwoFactorOptions()) async throws -> (TOTP, [String]) {
        let enrolment = try await twoFactor.enrol(.username("alice"), options)
        let app = try authenticator(enrolment)
        let codes = try await twoFactor.confirm(.username("alice"), code: app.code(at: fixture.clock.now()))
        // The confirming code is used: the next login needs the next step's.
        fixture.clock.advance(by: 30_000)
        return (app, codes)
    }

    private func assertFails<T>(
        _ expected: AuthError, _ body: @autoclosure () async throws -> T, file: StaticString = #filePath, line: UInt = #line
    ) async {
        await assertThrowsAsync(try await body(), file: file, line: line) { XCTAssertEqual($0 as? AuthError, expected, file: file, line: line) }
    }

    func testEnrolmentTakesEffectOnlyOnceAValidCodeConfirmsIt() async throws {
        let enrolment = try await twoFactor.enrol(.username("alice"))
        XCTAssertEqual(enrolment.digits, 6)
        XCTAssertEqual(enrolment.algorithm, .sha1)
        XCTAssertEqual(Base32.decode(enrolment.secret)?.count, 20)
        XCTAssertTrue(enrolment.uri.hasPrefix("otpauth://totp/Tessera:alice%40example.com?secret=\(enrolment.secret)&issuer=Tessera"), enrolment.uri)
        XCTAssertEqual(try twoFactor.status(.username("alice")).state, .pending)
        _ = try await login(nil)  // pending: no code asked yet

        let app = try authenticator(enrolment)
        let wrong = app.code(at: fixture.clock.now() + 600_000)
        await assertFails(.twoFactorInvalid, try await twoFactor.confirm(.username("alice"), code: wrong))
        let codes = try await twoFactor.confirm(.username("alice"), code: app.code(at: fixture.clock.now()))
        XCTAssertEqual(codes.count, 10)
        XCTAssertEqual(Set(codes).count, 10)
        XCTAssertTrue(codes.allSatisfy { $0.count == 14 && $0.split(separator: "-").count == 3 }, "\(codes)")
        let status = try twoFactor.status(.username("alice"))
        XCTAssertEqual(status.state, .enrolled)
        XCTAssertEqual(status.recoveryCodesLeft, 10)
        XCTAssertEqual(status.confirmedAt, fixture.clock.now())
        await assertFails(.conflict("two-factor login is already enrolled; disable it first"), try await twoFactor.enrol(.username("alice")))
    }

    func testALoginNeedsACodeOnlyAfterTheRightPassword() async throws {
        let (app, _) = try await enrol()
        await assertFails(.badCredentials, try await login(nil, password: "wrong password"))
        await assertFails(.twoFactorRequired, try await login(nil))
        let result = try await login(.code(app.code(at: fixture.clock.now())))
        XCTAssertNil(result.recoveryCodesLeft)
        XCTAssertEqual(try fixture.service.verification.verify(token: result.token).userID, result.user.id)
    }

    func testACodeIsAcceptedOnceEvenAcrossARestart() async throws {
        let (app, _) = try await enrol()
        let code = app.code(at: fixture.clock.now())
        _ = try await login(.code(code))
        await assertFails(.twoFactorInvalid, try await login(.code(code)))
        try fixture.reopen()
        await assertFails(.twoFactorInvalid, try await login(.code(code)))
        // An older code after a newer one is refused too.
        fixture.clock.advance(by: 30_000)
        await assertFails(.twoFactorInvalid, try await login(.code(app.code(at: fixture.clock.now() - 30_000))))
        _ = try await login(.code(app.code(at: fixture.clock.now())))
    }

    func testOneStepOfDriftEitherWayIsAcceptedAndTwoAreNot() async throws {
        let (app, _) = try await enrol()
        fixture.clock.advance(by: 300_000)
        let now = fixture.clock.now()
        await assertFails(.twoFactorInvalid, try await login(.code(app.code(at: now - 60_000))))
        await assertFails(.twoFactorInvalid, try await login(.code(app.code(at: now + 60_000))))
        _ = try await login(.code(app.code(at: now - 30_000)))
        _ = try await login(.code(app.code(at: now + 30_000)))
    }

    func testWrongCodesCountTowardsTheLockout() async throws {
        let (app, _) = try await enrol()
        for _ in 0..<5 { await assertFails(.twoFactorInvalid, try await login(.code("000000"))) }
        await assertThrowsAsync(try await login(.code(app.code(at: fixture.clock.now())))) { error in
            guard case AuthError.locked = error else { return XCTFail("the right code is refused while locked, not \(error)") }
        }
        fixture.clock.advance(by: 31_000)
        _ = try await login(.code(app.code(at: fixture.clock.now())))
    }

    func testARecoveryCodeWorksOnceAndRegeneratingVoidsTheOldOnes() async throws {
        let (app, codes) = try await enrol()
        let used = try await login(.recoveryCode(codes[3].uppercased()))
        XCTAssertEqual(used.recoveryCodesLeft, 9)
        await assertFails(.twoFactorInvalid, try await login(.recoveryCode(codes[3])))
        XCTAssertEqual(try twoFactor.status(.username("alice")).recoveryCodesLeft, 9)

        await assertFails(.twoFactorInvalid, try await twoFactor.regenerateRecoveryCodes(.username("alice"), code: "123456x"))
        let fresh = try await twoFactor.regenerateRecoveryCodes(.username("alice"), code: app.code(at: fixture.clock.now()))
        XCTAssertTrue(Set(fresh).isDisjoint(with: codes))
        await assertFails(.twoFactorInvalid, try await login(.recoveryCode(codes[4])))
        let withFresh = try await login(.recoveryCode(fresh[0].replacingOccurrences(of: "-", with: "")))
        XCTAssertEqual(withFresh.recoveryCodesLeft, 9)
    }

    func testDisablingNeedsThePasswordAndACodeOrAnAdministrator() async throws {
        let (app, codes) = try await enrol()
        await assertFails(
            .badCredentials,
            try await twoFactor.disable(
                .username("alice"), password: CoreFixture.secret("wrong password"), proof: .code(app.code(at: fixture.clock.now()))))
        await assertFails(
            .twoFactorInvalid, try await twoFactor.disable(.username("alice"), password: CoreFixture.secret("correct horse"), proof: .code("000000")))
        try await twoFactor.disable(.username("alice"), password: CoreFixture.secret("correct horse"), proof: .recoveryCode(codes[0]))
        XCTAssertNil(try twoFactor.status(.username("alice")).state)
        _ = try await login(nil)

        _ = try await enrol()
        try await twoFactor.disable(.username("alice"), password: nil, proof: nil)
        _ = try await login(nil)
        await assertFails(.notFound("two-factor login"), try await twoFactor.disable(.username("alice"), password: nil, proof: nil))
    }

    func testRotatingTheSealingKeyResealsEverySecretAndRetiresTheOldKey() async throws {
        let (app, codes) = try await enrol(TwoFactorOptions(algorithm: .sha256, digits: 8))
        let old = fixture.service.store.keyRing.activeSealing.id
        let fresh = try await fixture.service.keys.rotate(.secretSealing)
        XCTAssertNotEqual(fresh.id, old)
        let record = try XCTUnwrap(try fixture.service.store.read { try self.fixture.service.store.twoFactorRecord(ofUser: 1, in: $0) })
        XCTAssertEqual(record.keyID, fresh.id, "re-sealed in the rotation's transaction")
        _ = try await fixture.service.sweeper.sweep()
        XCTAssertEqual((try fixture.service.keys.list()).first { $0.id == old }?.state, .retired)
        XCTAssertEqual(app.code(at: fixture.clock.now()).count, 8)
        _ = try await login(.code(app.code(at: fixture.clock.now())))
        let withRecovery = try await login(.recoveryCode(codes[9]))
        XCTAssertEqual(withRecovery.recoveryCodesLeft, 9)
    }

    func testASealedSecretMovedToAnotherUserDoesNotOpen() async throws {
        _ = try await enrol()
        let bob = try await fixture.createUser("bob")
        let store = fixture.service.store
        try await store.write { txn in
            let alices = try XCTUnwrap(try store.twoFactorRecord(ofUser: 1, in: txn))
            try store.putTwoFactorRecord(alices, ofUser: bob.id, in: txn)
        }
        await assertThrowsAsync(
            try await fixture.service.sessions.login(
                LoginAttempt(identifier: "bob", password: CoreFixture.secret("correct horse"), secondFactor: .code("123456")))
        ) { error in
            guard case AuthError.internal = error else { return XCTFail("\(error)") }
        }
    }

    func testDeletingTheUserDeletesItsSecondFactor() async throws {
        _ = try await enrol()
        try await fixture.service.accounts.deleteUser(.username("alice"))
        let store = fixture.service.store
        XCTAssertNil(try store.read { try store.twoFactorRecord(ofUser: 1, in: $0) })
    }

    /// Enrolments and confirmations committed in the same group commit as a rotation of the
    /// sealing key (or the next), with sweeps retiring the replaced keys meanwhile: every
    /// second factor must be sealed under a key that still opens it, so every user logs in.
    func testEnrolmentsRacingSealingKeyRotationsAndSweepsEveryUserLogsInAfterwards() async throws {
        let rounds = (0..<12).map { round in (0..<8).map { "racer\(round)-\($0)" } }
        for name in rounds.joined() { _ = try await fixture.createUser(name) }
        let service = fixture.service
        /// Runs `work` for each round's users, beside a rotation of the sealing key and a sweep.
        func racingRotations<T: Sendable>(_ work: @escaping @Sendable (String) async throws -> T) async throws -> [String: T] {
            var results: [String: T] = [:]
            for names in rounds {
                try await withThrowingTaskGroup(of: (String, T)?.self) { group in
                    group.addTask {
                        _ = try await service.keys.rotate(.secretSealing)
                        _ = try await service.sweeper.sweep()
                        return nil
                    }
                    for name in names { group.addTask { (name, try await work(name)) } }
                    for try await case (let name, let result)? in group { results[name] = result }
                }
            }
            return results
        }
        let apps = try await racingRotations { name in
            let enrolment = try await service.twoFactor.enrol(.username(name))
            return TOTP(secret: Base32.decode(enrolment.secret)!, algorithm: enrolment.algorithm, digits: enrolment.digits)
        }
        let now = fixture.clock.now()
        _ = try await racingRotations { name in try await service.twoFactor.confirm(.username(name), code: apps[name]!.code(at: now)) }
        _ = try await service.sweeper.sweep()
        XCTAssertEqual(try service.keys.list().filter { $0.purpose == .secretSealing && $0.state != .retired }.count, 1, "the replaced keys retired")
        fixture.clock.advance(by: 30_000)
        for name in rounds.joined() {
            var attempt = LoginAttempt(identifier: name, password: CoreFixture.secret("correct horse"))
            attempt.secondFactor = .code(apps[name]!.code(at: fixture.clock.now()))
            let result = try await service.sessions.login(attempt)
            XCTAssertEqual(result.user.username, name)
        }
    }
}
