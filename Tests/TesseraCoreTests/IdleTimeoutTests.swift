import Foundation
import SodiumKit
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class IdleTimeoutTests: CoreTestCase {
    override func configure(_ configuration: inout AuthConfiguration) {
        configuration.sessionLifetimeSeconds = 3600
        configuration.idleTimeoutSeconds = 600
        configuration.lastSeenIntervalSeconds = 60
    }

    override func prepare() async throws {
        try await fixture.createUser("alice")
    }

    private func settle() async throws {
        // Touches are submitted without waiting; one more write through the queue orders after them.
        _ = try await fixture.service.sessions.revokeAllSessions(.username("nobody-\(UUID())"))
    }

    func testIdleExpiryToTheMillisecond() async throws {
        let login = try await fixture.login("alice")
        let start = fixture.clock.now()
        fixture.clock.set(start + 600_000 - 1)
        XCTAssertNoThrow(try fixture.service.verification.verify(token: login.token))
        try? await settle()
        // That verify was due a touch (lastSeen older than 60 s): the deadline moved.
        fixture.clock.set(start + 600_000 - 1 + 600_000 - 1)
        XCTAssertNoThrow(try fixture.service.verification.verify(token: login.token))
        try? await settle()
        let lastSeen = start + 600_000 - 1 + 600_000 - 1
        fixture.clock.set(lastSeen + 600_000)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }

    func testUntouchedSessionExpiresAtTheIdleDeadline() async throws {
        let login = try await fixture.login("alice")
        let start = fixture.clock.now()
        fixture.clock.set(start + 600_000)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }

    func testVerifiesWithinTheIntervalDoNotWrite() async throws {
        let login = try await fixture.login("alice")
        let start = fixture.clock.now()
        fixture.clock.set(start + 59_000)
        _ = try fixture.service.verification.verify(token: login.token)
        try? await settle()
        // Not touched (59 s < 60 s interval): the idle deadline is still start + 600 s.
        fixture.clock.set(start + 600_000)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }

    /// An idle timeout shorter than the last-seen interval is still extended by use: a verify
    /// records the use once the recorded one is half the idle timeout old.
    func testAnIdleTimeoutShorterThanTheWriteIntervalIsExtendedByUse() async throws {
        var password = Array("correct horse".utf8)
        let login = try await fixture.service.sessions.login(
            LoginAttempt(
                identifier: "alice", password: SecretBytes(wiping: &password),
                idleTimeoutSeconds: 2))
        let start = fixture.clock.now()
        for step in 1...20 {
            fixture.clock.set(start + Int64(step) * 900)
            XCTAssertNoThrow(try fixture.service.verification.verify(token: login.token), "verify at \(step * 900) ms")
            try? await settle()
        }
        let lastUse = start + 20 * 900
        fixture.clock.set(lastUse + 2_000)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }

    func testAbsoluteExpiryWinsOverActivity() async throws {
        let login = try await fixture.login("alice")
        let start = fixture.clock.now()
        for minute in 1...59 {
            fixture.clock.set(start + Int64(minute) * 60_000)
            _ = try fixture.service.verification.verify(token: login.token)
            try? await settle()
        }
        fixture.clock.set(start + 3_600_000)
        XCTAssertThrowsError(try fixture.service.verification.verify(token: login.token)) { XCTAssertEqual($0 as? AuthError, .tokenExpired) }
    }

    func testALoginMayAskForAShorterIdleTimeoutButNotALongerOne() {
        XCTAssertEqual(fixture.service.sessions.effectiveIdleTimeout(nil), 600)
        XCTAssertEqual(fixture.service.sessions.effectiveIdleTimeout(60), 60)
        XCTAssertEqual(fixture.service.sessions.effectiveIdleTimeout(6000), 600)
        XCTAssertEqual(fixture.service.sessions.effectiveIdleTimeout(0), 600, "no idle timeout is longer than the maximum")
    }

    func testVersionOneRecordsStillVerify() throws {
        // A record written before idle timeouts existed: version 1 layout.
        var writer = RecordWriter(version: 1)
        writer.write(UInt64(7))
        writer.write(Int64(1))
        writer.write(Int64(99))
        writer.write(UInt16(1))
        writer.write(raw: [UInt8](repeating: 0xAB, count: 32))
        writer.write(shortStrings: ["r"])
        writer.write(string: "ip")
        writer.write(string: nil)
        let record = try writer.bytes.withUnsafeBytes { try SessionRecord(decoding: $0) }
        XCTAssertEqual(record.userID, 7)
        XCTAssertEqual(record.lastSeen, 1)
        XCTAssertEqual(record.idleSeconds, 0)
        XCTAssertEqual(record.roles, ["r"])
        XCTAssertEqual(record.clientIP, "ip")
        XCTAssertEqual(record.deadline(), 99)
    }
}
