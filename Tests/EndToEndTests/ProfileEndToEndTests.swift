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

    /// Attributes through the real daemon and the CLI: typed on the command line, shown typed
    /// in JSON, set and removed by name, kept across a restart, refused past their limits with a
    /// message naming the limit, and carried by export and import to another daemon.
    func testAttributesFromTheCLIAreTypedKeptAcrossARestartAndCarriedByExport() throws {
        let daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        defer { daemon.tearDown() }
        try daemon.start()
        func tessera(_ arguments: [String], on daemon: DaemonProcess) throws -> CommandResult {
            try runCommand(DaemonProcess.tessera, arguments + ["--socket", daemon.socketPath], input: "correct horse\n")
        }
        func attributes(_ result: CommandResult) throws -> [String: Any] {
            XCTAssertEqual(result.status, 0, result.stderr)
            let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
            return object["attributes"] as? [String: Any] ?? [:]
        }
        let added = try attributes(
            try tessera(
                [
                    "user", "add", "alice", "--attribute", "title=Dr", "--attribute", "rank:number=3.5", "--attribute", "vip:bool=true",
                    "--attribute", "born:date=1990-05-01", "--attribute", "note:x=y", "--json",
                ], on: daemon))
        XCTAssertEqual(added["title"] as? String, "Dr")
        XCTAssertEqual(added["rank"] as? Double, 3.5)
        XCTAssertEqual(added["vip"] as? Bool, true)
        XCTAssertEqual(added["born"] as? [String: String], ["date": "1990-05-01T00:00:00.000Z"])
        XCTAssertEqual(added["note:x"] as? String, "y", "an unknown kind is part of the name: a string")

        let updated = try attributes(
            try tessera(
                ["user", "update", "alice", "--attribute", "title=Prof", "--remove-attribute", "vip", "--remove-attribute", "note:x", "--json"],
                on: daemon))
        XCTAssertEqual(Set(updated.keys), ["title", "rank", "born"])
        XCTAssertEqual(updated["title"] as? String, "Prof")

        let badNumber = try tessera(["user", "update", "alice", "--attribute", "rank:number=high"], on: daemon)
        XCTAssertNotEqual(badNumber.status, 0)
        XCTAssertTrue(badNumber.stderr.contains("attribute rank: \"high\" is not a finite number"), badNumber.stderr)
        let tooLong = try tessera(["user", "update", "alice", "--attribute", "notes=" + String(repeating: "n", count: 1025)], on: daemon)
        XCTAssertTrue(tooLong.stderr.contains("invalid-argument"), tooLong.stderr)
        XCTAssertTrue(tooLong.stderr.contains("a string attribute is at most 1024 bytes, not 1025"), tooLong.stderr)

        try daemon.restart()
        let shown = try tessera(["user", "show", "alice"], on: daemon)
        XCTAssertTrue(shown.stdout.contains("attribute born (date): 1990-05-01T00:00:00.000Z"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("attribute rank (number): 3.5"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("attribute title (string): Prof"), shown.stdout)

        let file = daemon.directory + "/users.jsonl"
        XCTAssertEqual(try tessera(["export", "users", "--output", file], on: daemon).status, 0)
        let line = try String(contentsOfFile: file, encoding: .utf8)
        XCTAssertTrue(line.contains(#""attributes":{"born":{"date":"1990-05-01T00:00:00.000Z"},"rank":3.5,"title":"Prof"}"#), line)
        let other = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64"])
        defer { other.tearDown() }
        try other.start()
        let imported = try tessera(["import", "users", file], on: other)
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertEqual(try attributes(try tessera(["user", "show", "alice", "--json"], on: other)) as NSDictionary, updated as NSDictionary)
    }
}
