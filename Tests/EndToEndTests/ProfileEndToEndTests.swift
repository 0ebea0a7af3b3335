import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

final class ProfileEndToEndTests: XCTestCase {
    func testRegisterUnvalidatedValidateAndUpdateFromTheCLI() throws {
        let daemon = DaemonProcess()
        defer { daemon.tearDown() }
        try daemon.start()
        let socket = ["--socket", daemon.socketPath]
        let add = try runCommand(
            DaemonProcess.tessera, ["user", "add", "alice", "--phone", "+33612345678", "--unvalidated", "--json"] + socket,
            input: "correct horse\n")
        XCTAssertEqual(add.status, 0, add.stderr)
        let created = try JSONSerialization.jsonObject(with: Data(add.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(created["state"] as? String, "unvalidated")
        let code = try XCTUnwrap(created["validation_code"] as? String)
        let expires = try XCTUnwrap(created["validation_expires_at"] as? String)
        let expiry = try XCTUnwrap(ISO8601DateFormatter().date(from: expires))
        XCTAssertEqual(expiry.timeIntervalSinceNow, 24 * 3600, accuracy: 120, "24 hours by default")
        let refused = try runCommand(DaemonProcess.tessera, ["login", "+33612345678"] + socket, input: "correct horse\n")
        XCTAssertTrue(refused.stderr.contains("account-not-validated"), refused.stderr)
        XCTAssertFalse(refused.stdout.contains(code) || refused.stderr.contains("validation_code"), "a login never carries a code")
        // A fresh code from NEW_VALIDATION_CODE: the first one no longer works.
        let resent = try runCommand(DaemonProcess.tessera, ["user", "new-code", "alice", "--json"] + socket)
        XCTAssertEqual(resent.status, 0, resent.stderr)
        let fresh = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(resent.stdout.utf8)) as! [String: Any])["validation_code"] as? String)
        XCTAssertNotEqual(fresh, code)
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, ["user", "validate"] + socket, input: code + "\n").status, 0)
        let validated = try runCommand(DaemonProcess.tessera, ["user", "validate"] + socket, input: fresh + "\n")
        XCTAssertEqual(validated.status, 0, validated.stderr)
        let again = try runCommand(DaemonProcess.tessera, ["user", "new-code", "alice"] + socket)
        XCTAssertTrue(again.stderr.contains("not-found"), "validated: no code to resend. \(again.stderr)")

        let update = try runCommand(
            DaemonProcess.tessera, ["user", "update", "+33612345678", "--email", "a@example.com", "--role", "admin", "--json"] + socket)
        XCTAssertEqual(update.status, 0, update.stderr)
        XCTAssertTrue(update.stdout.contains("\"email\":\"a@example.com\""), update.stdout)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["login", "a@example.com"] + socket, input: "correct horse\n").status, 0)
    }
}
