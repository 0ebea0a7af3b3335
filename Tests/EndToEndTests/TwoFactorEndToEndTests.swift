import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

/// Two-factor login through the real daemon, with codes computed by an independent TOTP
/// implementation (Python's pyotp, reading the daemon's otpauth:// URI as an authenticator app
/// does): enrolment, a code required and accepted once (across a restart too), one step of
/// drift, recovery codes used once, disabling, the CLI, and a data file that holds no secret.
final class TwoFactorEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    var python: String!
    override func setUpWithError() throws {
        python = try IndependentPython.interpreter()
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        try daemon.start()
    }
    override func tearDown() { daemon?.tearDown() }

    private let password = Array("correct horse".utf8)

    /// pyotp's codes for `uri` at each of `times` (Unix seconds).
    private func pyotpCodes(_ uri: String, at times: [Int]) throws -> [String] {
        let result = try runCommand(python, [IndependentPython.script("totp_codes.py"), uri] + times.map(String.init))
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.split(separator: "\n").map(String.init)
    }

    /// Now, in whole seconds. The daemon reads its clock after this, and a test lasts seconds, so
    /// during the test the daemon's TOTP step is this one's or the next: the tests confirm with
    /// this step's code, log in with the next one's, and choose refused codes outside both
    /// windows, so crossing a step boundary mid-test changes no answer (no waiting for one).
    private func testStart() -> Int {
        Int(Date().timeIntervalSince1970)
    }

    private func expectFailure(_ name: String, file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void) async {
        do {
            try await body()
            XCTFail("expected \(name)", file: file, line: line)
        } catch let error as TesseraClientError {
            XCTAssertEqual(error.name, name, "\(error)", file: file, line: line)
        } catch {
            XCTFail("\(error)", file: file, line: line)
        }
    }

    /// Creates alice, logs her in, enrols and confirms a second factor with `confirmAt`'s code.
    private func enrolAlice(
        _ client: TesseraClient, algorithm: TOTPAlgorithm = .sha1, digits: Int = 6, confirmAt: Int
    ) async throws -> (
        uri: String, recoveryCodes: [String], secret: String
    ) {
        _ = try await client.createUser(username: "alice", password: password, email: "alice@example.com")
        let session = try await client.login(identifier: "alice", password: password)
        let enrolment = try await client.enrolTwoFactor(of: .sessionToken(session.token), algorithm: algorithm, digits: digits)
        let pending = try await client.twoFactorStatus(of: .username("alice"))
        XCTAssertEqual(pending.state, .pending, "pending until confirmed")
        let code = try pyotpCodes(enrolment.uri, at: [confirmAt])[0]
        let codes = try await client.confirmTwoFactor(of: .sessionToken(session.token), code: code)
        return (enrolment.uri, codes, enrolment.secret)
    }

    func testACodeIsRequiredAcceptedOnceEvenAcrossARestartWithOneStepOfDrift() async throws {
        let now = testStart()
        var client = TesseraClient(socketPath: daemon.socketPath)
        // Confirmed with this step's code, which is then used: the next step's is the one to log in with.
        let (uri, recoveryCodes, _) = try await enrolAlice(client, confirmAt: now)
        XCTAssertEqual(recoveryCodes.count, 10)
        let codes = try pyotpCodes(uri, at: [now - 60, now, now + 30, now + 90])
        let (tooOld, confirmed, next, tooNew) = (codes[0], codes[1], codes[2], codes[3])

        await expectFailure("2fa-required") { _ = try await client.login(identifier: "alice", password: self.password) }
        await expectFailure("bad-credentials") { _ = try await client.login(identifier: "alice", password: Array("wrong".utf8), code: next) }
        await expectFailure("2fa-invalid") { _ = try await client.login(identifier: "alice", password: self.password, code: tooOld) }
        await expectFailure("2fa-invalid") { _ = try await client.login(identifier: "alice", password: self.password, code: tooNew) }
        await expectFailure("2fa-invalid") { _ = try await client.login(identifier: "alice", password: self.password, code: confirmed) }
        // One step ahead of the daemon's clock (or its current step, past a boundary): drift.
        let session = try await client.login(identifier: "alice", password: password, code: next)
        XCTAssertNil(session.recoveryCodesLeft)
        let verified = try await client.verify(token: session.token)
        XCTAssertEqual(verified.userID, session.user.id)
        await expectFailure("2fa-invalid") { _ = try await client.login(identifier: "alice", password: self.password, code: next) }

        await client.close()
        try daemon.restart()
        client = TesseraClient(socketPath: daemon.socketPath)
        await expectFailure("2fa-invalid") { _ = try await client.login(identifier: "alice", password: self.password, code: next) }
        await expectFailure("2fa-invalid") { _ = try await client.login(identifier: "alice", password: self.password, code: confirmed) }
        let recovered = try await client.login(identifier: "alice", password: password, recoveryCode: recoveryCodes[0])
        XCTAssertEqual(recovered.recoveryCodesLeft, 9, "the second factor outlived the restart")
        await client.close()
    }

    func testSHA256EightDigitCodesFromTheURIWork() async throws {
        let now = testStart()
        let client = TesseraClient(socketPath: daemon.socketPath)
        let (uri, _, secret) = try await enrolAlice(client, algorithm: .sha256, digits: 8, confirmAt: now)
        XCTAssertTrue(uri.contains("algorithm=SHA256&digits=8"), uri)
        XCTAssertEqual(secret.count, 52, "32 bytes in Base32")
        let code = try pyotpCodes(uri, at: [now + 30])[0]
        XCTAssertEqual(code.count, 8)
        _ = try await client.login(identifier: "alice", password: password, code: code)
        await client.close()
    }

    func testARecoveryCodeWorksOnceAndTheLoginSaysHowManyAreLeft() async throws {
        let now = testStart()
        let client = TesseraClient(socketPath: daemon.socketPath)
        let (uri, recoveryCodes, _) = try await enrolAlice(client, confirmAt: now)
        let used = try await client.login(identifier: "alice", password: password, recoveryCode: recoveryCodes[0])
        XCTAssertEqual(used.recoveryCodesLeft, 9)
        await expectFailure("2fa-invalid") {
            _ = try await client.login(identifier: "alice", password: self.password, recoveryCode: recoveryCodes[0])
        }
        let session = try await client.login(identifier: "alice", password: password, recoveryCode: recoveryCodes[1].uppercased())
        XCTAssertEqual(session.recoveryCodesLeft, 8)

        let fresh = try await client.regenerateRecoveryCodes(of: .sessionToken(session.token), code: try pyotpCodes(uri, at: [now + 30])[0])
        XCTAssertEqual(fresh.count, 10)
        await expectFailure("2fa-invalid") {
            _ = try await client.login(identifier: "alice", password: self.password, recoveryCode: recoveryCodes[2])
        }
        let regenerated = try await client.twoFactorStatus(of: .username("alice"))
        XCTAssertEqual(regenerated.recoveryCodesLeft, 10)

        // Disabling by the user: the password and a recovery code.
        await expectFailure("2fa-invalid") {
            try await client.disableTwoFactor(of: .sessionToken(session.token), password: self.password, recoveryCode: recoveryCodes[3])
        }
        try await client.disableTwoFactor(of: .sessionToken(session.token), password: password, recoveryCode: fresh[0])
        let disabled = try await client.twoFactorStatus(of: .username("alice"))
        XCTAssertEqual(disabled.state, .none)
        _ = try await client.login(identifier: "alice", password: password)
        await client.close()
    }

    func testTheCLIShowsAndResetsASecondFactor() async throws {
        let now = testStart()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await enrolAlice(client, confirmAt: now)
        await client.close()
        let tessera = { (arguments: [String]) in try runCommand(DaemonProcess.tessera, ["--socket", self.daemon.socketPath] + arguments) }

        let status = try tessera(["2fa", "status", "alice"])
        XCTAssertEqual(status.status, 0, status.stderr)
        XCTAssertTrue(status.stdout.hasPrefix("alice: enrolled (SHA1, 6 digits, 30 s), since "), status.stdout)
        XCTAssertTrue(status.stdout.contains("10 recovery code(s) left"), status.stdout)
        let json = try tessera(["2fa", "status", "alice", "--json"])
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["state"] as? String, "enrolled")
        XCTAssertEqual(object["recovery_codes_left"] as? Int, 10)

        let login = try runCommand(DaemonProcess.tessera, ["--socket", daemon.socketPath, "login", "alice"], input: "correct horse\n")
        XCTAssertNotEqual(login.status, 0)
        XCTAssertTrue(login.stderr.contains("2fa-required"), login.stderr)

        let reset = try tessera(["2fa", "reset", "alice"])
        XCTAssertEqual(reset.status, 0, reset.stderr)
        XCTAssertEqual(try tessera(["2fa", "status", "alice"]).stdout, "alice: none\n")
        let again = try tessera(["2fa", "reset", "alice"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("not-found"), again.stderr)
        let plain = try runCommand(DaemonProcess.tessera, ["--socket", daemon.socketPath, "login", "alice"], input: "correct horse\n")
        XCTAssertEqual(plain.status, 0, plain.stderr)
    }

    /// The data file holds neither the TOTP secret (raw or Base32) nor a recovery code, before
    /// and after the secret-sealing key's rotation.
    func testTheDataFileHoldsNoSecretInClear() async throws {
        let now = testStart()
        let client = TesseraClient(socketPath: daemon.socketPath)
        let (uri, recoveryCodes, secret) = try await enrolAlice(client, confirmAt: now)
        _ = try await client.rotateKey(.secretSealing)
        _ = try await client.login(identifier: "alice", password: password, code: try pyotpCodes(uri, at: [now + 30])[0])
        await client.close()
        daemon.stop()

        let file = try Data(contentsOf: URL(fileURLWithPath: daemon.dataPath + "/data.mdb"))
        let raw = try XCTUnwrap(base32Decode(secret))
        XCTAssertEqual(raw.count, 20)
        XCTAssertNil(file.range(of: Data(raw)), "the raw TOTP secret")
        XCTAssertNil(file.range(of: Data(secret.utf8)), "the Base32 secret")
        XCTAssertNil(file.range(of: Data(raw.prefix(10))), "half the raw secret")
        for code in recoveryCodes {
            XCTAssertNil(file.range(of: Data(code.utf8)), code)
            XCTAssertNil(file.range(of: Data(code.replacingOccurrences(of: "-", with: "").utf8)), code)
        }
    }

    /// RFC 4648 Base32, written here rather than taken from the daemon's code.
    private func base32Decode(_ text: String) -> [UInt8]? {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0
        var buffer = 0
        var out: [UInt8] = []
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { return nil }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> (bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return out
    }
}
