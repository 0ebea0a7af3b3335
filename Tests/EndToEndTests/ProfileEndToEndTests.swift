import Foundation
import TesseraClient
import TesseraProtocol
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
        let refused = try runCommand(DaemonProcess.tessera, ["login", "+33612345678"] + socket, input: "correct horse\n")
        XCTAssertTrue(refused.stderr.contains("account-not-validated"), refused.stderr)
        // That login issued a fresh code: the first one no longer works.
        XCTAssertNotEqual(try runCommand(DaemonProcess.tessera, ["user", "validate", code] + socket).status, 0)

        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["user", "set-state", "alice", "active"] + socket).status, 0)
        let update = try runCommand(
            DaemonProcess.tessera, ["user", "update", "+33612345678", "--email", "a@example.com", "--role", "admin", "--json"] + socket)
        XCTAssertEqual(update.status, 0, update.stderr)
        XCTAssertTrue(update.stdout.contains("\"email\":\"a@example.com\""), update.stdout)
        XCTAssertEqual(try runCommand(DaemonProcess.tessera, ["login", "a@example.com"] + socket, input: "correct horse\n").status, 0)
    }
}
