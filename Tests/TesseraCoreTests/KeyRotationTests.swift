import Foundation
import LMDBKit
import TesseraModel
import TestSupport
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// Rotation without logging anyone out, retirement that refuses at once, and the ring that
/// survives a restart.
final class KeyRotationTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.sessionLifetimeSeconds = 3600
        configuration.refreshLifetimeSeconds = 7200
        configuration.validationCodeLifetimeSeconds = 600
    }

    private func digestStates() throws -> [TokenKey.State] {
        (try fixture.service.keys.list()).filter { $0.purpose == .tokenDigest }.map(\.state)
    }

    private func keyID(_ token: String, kind: UInt8 = SessionToken.version) throws -> UInt16 {
        try XCTUnwrap(SessionToken.parse(token, kind: kind)).keyID
    }

    func testTokensMadeBeforeARotationStillWorkAndNewOnesCarryTheNewKey() async throws {
        try await fixture.createUser("alice")
        var unvalidated = NewUser(username: "bob", password: CoreFixture.secret("correct horse"))
        unvalidated.unvalidated = true
        let registration = try await fixture.service.accounts.register(unvalidated)
        let code = try XCTUnwrap(registration.validationCode)
        let before = try await fixture.login("alice")
        let first = (try fixture.service.keys.list()).filter { $0.purpose == .tokenDigest }
        XCTAssertEqual(first.map(\.state), [.active])

        let rotated = try await fixture.service.keys.rotate()
        XCTAssertEqual(rotated.id, (try fixture.service.keys.list()).map(\.id).max(), "a new id, above every other")
        let keys = (try fixture.service.keys.list()).filter { $0.purpose == .tokenDigest }
        XCTAssertEqual(keys.map(\.state), [.verifyOnly, .active])
        XCTAssertEqual(keys[0].retiresAt, fixture.clock.now() + 7_200_000, "verify-only for the longest lifetime: the refresh family's")

        XCTAssertEqual(try fixture.service.verification.verify(token: before.token).sessionID, before.sessionID)
        let after = try await fixture.login("alice")
        XCTAssertEqual(try keyID(after.token), rotated.id)
        let renewed = try await fixture.service.sessions.refresh(before.refreshToken)
        XCTAssertEqual(try keyID(renewed.refreshToken, kind: SessionToken.refreshVersion), rotated.id, "the family moves to the new key")
        let validated = try await fixture.service.accounts.validate(code: code.code)
        XCTAssertEqual(validated.state, .active, "a pending code survives")
    }

    func testRetiringAKeyRefusesItsTokensAtOnceAndSaysHowManySessionsEnded() async throws {
        try await fixture.createUser("alice")
        let old = try await fixture.login("alice")
        _ = try await fixture.login("alice")
        let oldKey = try keyID(old.token)
        _ = try await fixture.service.keys.rotate()
        let fresh = try await fixture.login("alice")

        let (retired, ended) = try await fixture.service.keys.retire(oldKey)
        XCTAssertEqual(retired.state, .retired)
        XCTAssertEqual(ended, 2)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: old.token)) { XCTAssertEqual($0 as? AuthError, .tokenInvalid) }
        await assertThrowsAsync(try await fixture.service.sessions.refresh(old.refreshToken)) {
            XCTAssertEqual($0 as? AuthError, .tokenInvalid)
        }
        XCTAssertNoThrow(try fixture.service.verification.verify(token: fresh.token))
        await assertThrowsAsync(try await fixture.service.keys.retire(999)) { XCTAssertEqual($0 as? AuthError, .notFound("key 999")) }
    }

    func testRetiringTheActiveKeyMakesANewOneFirst() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let active = try keyID(login.token)
        let (retired, ended) = try await fixture.service.keys.retire(active)
        XCTAssertEqual(retired.id, active)
        XCTAssertEqual(ended, 1)
        let states = try digestStates()
        XCTAssertEqual(states, [.retired, .active], "never zero active keys")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token))
        _ = try await fixture.login("alice")
    }

    func testTheSweeperRetiresAVerifyOnlyKeyWhenNothingMadeUnderItCanBeAlive() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        _ = try await fixture.service.keys.rotate()
        fixture.clock.advance(by: 7_200_000 - 1)
        var step = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(step.keysRetired, 0)
        XCTAssertEqual(try digestStates(), [.verifyOnly, .active])
        fixture.clock.advance(by: 1)
        step = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(step.keysRetired, 1)
        XCTAssertEqual(try digestStates(), [.retired, .active])
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token))
    }

    func testTheRingAndItsStatesSurviveARestartAndARetiredKeyLosesItsMaterial() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        let first = try keyID(login.token)
        _ = try await fixture.service.keys.rotate()
        _ = try await fixture.service.keys.rotate()
        _ = try await fixture.service.keys.retire(first)
        let listed = (try fixture.service.keys.list())
        try fixture.reopen()
        XCTAssertEqual((try fixture.service.keys.list()), listed)
        XCTAssertEqual(listed.filter { $0.purpose == .tokenDigest }.map(\.state), [.retired, .verifyOnly, .active])
        let store = fixture.service.store
        let stored = try store.read { txn in try txn.value(forKey: [0, UInt8(first)], in: store.tokenKeys) }
        let key = try XCTUnwrap(stored).withUnsafeBytes { try TokenKey(id: first, decoding: $0, master: fixture.masterKey) }
        XCTAssertEqual(key.materialBytes, [UInt8](repeating: 0, count: 32))
        XCTAssertEqual(try XCTUnwrap(stored).count, 37, "nothing sealed is left of a retired key: its fixed fields alone")
    }

    func testTheDataFileHoldsNoKeyMaterialAndOpensOnlyWithItsMasterKey() async throws {
        try await fixture.createUser("alice")
        _ = try await fixture.service.keys.rotate()
        let materials = fixture.service.store.keyRing.verifying.map(\.materialBytes)
        XCTAssertEqual(materials.count, 2)
        let file = try Data(contentsOf: URL(fileURLWithPath: fixture.directory + "/data.mdb"))
        for material in materials {
            XCTAssertNil(file.range(of: Data(material)), "a key's material is in the data file")
        }
        let listed = (try fixture.service.keys.list())
        let directory = fixture.directory
        fixture.service.store.close()
        XCTAssertThrowsError(try TesseraStore(directory: directory, masterKey: MasterKey.generate())) {
            XCTAssertEqual($0 as? KeyRingError, .wrongMasterKey)
        }
        XCTAssertTrue(try TesseraStore.isSealed(directory: directory))
        XCTAssertFalse(try TesseraStore.isSealed(directory: directory + "-elsewhere"))
        let reopened = try TesseraStore(directory: directory, masterKey: fixture.masterKey)
        XCTAssertEqual(reopened.keyRing.verifying.map(\.materialBytes), materials)
        reopened.close()
        try fixture.reopen()
        XCTAssertEqual((try fixture.service.keys.list()), listed)
    }

    /// The new master key goes where a copy of the data does not carry it and a reboot does not
    /// take it: not inside the data directory (through a link neither), not on a tmpfs.
    func testANewMasterKeyIsNeverWrittenInsideTheDataDirectoryNorOnATmpfs() async throws {
        let elsewhere = TemporaryDirectory("tessera-link")
        defer { elsewhere.remove() }
        let link = elsewhere.file("data-link")
        XCTAssertEqual(symlink(fixture.directory, link), 0)
        for path in [fixture.directory + "/master.key", link + "/master.key"] {
            await assertThrowsAsync(try await fixture.service.keys.rotateMaster(newKeyFile: path)) {
                XCTAssertTrue("\($0)".contains("inside the data directory"), "\(path): \($0)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: path), path)
        }
        if MasterKeyFile.fileSystemType(of: "/dev/shm") == "tmpfs" {
            let volatile = "/dev/shm/tessera-master-\(getpid()).key"
            await assertThrowsAsync(try await fixture.service.keys.rotateMaster(newKeyFile: volatile)) {
                XCTAssertTrue("\($0)".contains("reboot empties"), "\($0)")
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: volatile))
        }
    }

    func testRotatingTheMasterKeyResealsEveryKeyInOneStep() async throws {
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        _ = try await fixture.service.keys.rotate()
        let keys = TemporaryDirectory("tessera-master")
        defer { keys.remove() }
        let path = keys.file("master.key")
        let sealed = try await fixture.service.keys.rotateMaster(newKeyFile: path)
        XCTAssertEqual(sealed, 4, "two digest keys, the signing key and the sealing key")
        // The daemon goes on with the new key: rotations seal under it.
        _ = try await fixture.service.keys.rotate()
        await assertThrowsAsync(try await fixture.service.keys.rotateMaster(newKeyFile: path)) {
            XCTAssertTrue("\($0)".contains("File exists"), "\($0)")
        }
        let new = try XCTUnwrap(try MasterKeyFile.load(path))
        var attributes = stat()
        XCTAssertEqual(stat(path, &attributes), 0)
        XCTAssertEqual(attributes.st_mode & 0o777, 0o600)
        let directory = fixture.directory
        fixture.service.store.close()
        XCTAssertThrowsError(try TesseraStore(directory: directory, masterKey: fixture.masterKey)) {
            XCTAssertEqual($0 as? KeyRingError, .wrongMasterKey, "the old master key no longer opens it")
        }
        let reopened = try TesseraStore(directory: directory, masterKey: new)
        XCTAssertEqual(reopened.keyRing.keys.filter { $0.purpose == .tokenDigest }.map(\.state), [.verifyOnly, .verifyOnly, .active])
        let service = AuthService(
            store: reopened, configuration: fixture.service.configuration, hashingPool: fixture.hashingPool, clock: fixture.clock)
        XCTAssertNoThrow(try service.verification.verify(token: login.token), "tokens made before both rotations still verify")
        reopened.close()
    }

    func testTheSweeperRotatesOnScheduleWhenAsked() async throws {
        let fixture = try CoreFixture { $0.keyRotationSeconds = 600 }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let login = try await fixture.login("alice")
        fixture.clock.advance(by: 599_999)
        var step = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(step.keysRotated, [])
        fixture.clock.advance(by: 1)
        step = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(step.keysRotated, [.tokenDigest])
        XCTAssertEqual((try fixture.service.keys.list()).filter { $0.purpose == .tokenDigest }.map(\.state), [.verifyOnly, .active])
        step = try await fixture.service.sweeper.sweep()
        XCTAssertEqual(step.keysRotated, [], "the new key's own clock starts now")
        XCTAssertNoThrow(try fixture.service.verification.verify(token: login.token))
    }
}
