import Foundation
import Locking
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

/// Logins under a flood from other sources, through the real daemon: the per-source throttle
/// answers a source out of failures before any check, and the hashing pool's reserved lane
/// keeps a thread for a user without failures while failing logins fill the rest.
final class LoginFloodTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private static func status(_ work: () async throws -> Void) async -> TesseraError.Code? {
        do {
            try await work()
            return nil
        } catch let TesseraClientError.server(error) {
            return error.code
        } catch {
            return .internal
        }
    }

    /// 16 failing logins of ever-new names at a time from `10.0.0.<source>`, until `stop` (at
    /// most 2,000 rounds), counting the answers.
    private static func flood(_ socketPath: String, from source: Int, until stop: Locked<Bool>, busy: Locked<Int>, refused: Locked<Int>) async {
        let client = TesseraClient(socketPath: socketPath)
        for round in 0..<2_000 where !stop.withLock({ $0 }) {
            await withTaskGroup(of: TesseraError.Code?.self) { logins in
                for index in 0..<16 {
                    logins.addTask {
                        await status {
                            _ = try await client.login(
                                identifier: "flood-\(source)-\(round)-\(index)", password: Array("guess".utf8), clientIP: "10.0.0.\(source)")
                        }
                    }
                }
                for await code in logins {
                    if code == .busy { busy.withLock { $0 += 1 } }
                    if code == .badCredentials { refused.withLock { $0 += 1 } }
                }
            }
        }
        await client.close()
    }

    /// The audit's finding: 30 unauthenticated clients made every other user's login answer
    /// `busy`. Here 8 sources keep 128 failing logins in flight against one hashing thread with
    /// two places in its queue; alice, from the address she logged in from before, logs in every
    /// time. A login from an address never seen waits in the shared lane (a flood could use
    /// ever-new addresses): that one is allowed to get `busy`.
    func testAFloodFromOtherSourcesLeavesAUserWithoutFailuresAThread() async throws {
        daemon = DaemonProcess(arguments: [
            "--argon2-ops", "2", "--argon2-mem-kib", "8192", "--hash-threads", "1", "--hash-queue", "2",
            // The lanes alone: no source runs out of failures here.
            "--source-failures-per-minute", "0",
        ])
        try daemon.start()
        let admin = TesseraClient(socketPath: daemon.socketPath)
        _ = try await admin.createUser(username: "alice", password: Array("correct horse".utf8))
        // Alice has logged in from her address before: only such a source counts as clean.
        _ = try await admin.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "192.0.2.50")
        let socketPath = daemon.socketPath
        let stop = Locked(false)
        let busy = Locked(0)
        let refused = Locked(0)
        let floods = (1...8).map { source in Task { await Self.flood(socketPath, from: source, until: stop, busy: busy, refused: refused) } }
        // The flood is on once the pool has refused some and checked some.
        while busy.withLock({ $0 }) < 200 || refused.withLock({ $0 }) < 8 { await Task.yield() }
        var answers: [TesseraError.Code?] = []
        for _ in 0..<10 {
            answers.append(
                await Self.status {
                    _ = try await admin.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "192.0.2.50")
                })
        }
        let busyDuring = busy.withLock { $0 }
        stop.withLock { $0 = true }
        for flood in floods { await flood.value }
        XCTAssertEqual(answers, Array(repeating: nil, count: 10), "alice's logins during the flood (\(busyDuring) flood logins answered busy)")
        XCTAssertGreaterThan(busy.withLock { $0 } - 200, 0, "the flood went on during alice's logins")
        await admin.close()
    }

    /// A source that has spent its failures is answered `locked` at once, whatever it names and
    /// whatever the password, and nothing it sends is checked or counted; other sources (another
    /// IPv6 /64 too) are untouched.
    func testASourceOutOfFailuresIsAnsweredBeforeAnyCheck() async throws {
        daemon = DaemonProcess(arguments: [
            "--argon2-ops", "1", "--argon2-mem-kib", "64", "--source-failure-burst", "3", "--source-failures-per-minute", "1",
        ])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        for source in ["203.0.113.7", "2001:db8:0:1::1"] {
            for index in 0..<3 {
                let code = await Self.status {
                    _ = try await client.login(identifier: "nobody-\(index)", password: Array("guess".utf8), clientIP: source)
                }
                XCTAssertEqual(code, .badCredentials, "\(source), failure \(index)")
            }
        }
        for (source, password) in [
            ("203.0.113.7", "correct horse"), ("203.0.113.7", "wrong"), ("2001:db8:0:1::2", "correct horse"), ("::ffff:203.0.113.7", "wrong"),
        ] {
            do {
                _ = try await client.login(identifier: "alice", password: Array(password.utf8), clientIP: source)
                XCTFail("\(source) is out of failures")
            } catch let TesseraClientError.server(error) {
                XCTAssertEqual(error.code, .locked, source)
                XCTAssertEqual(
                    error.retryAfter.map { $0 > .seconds(0) && $0 <= .seconds(60) }, true, "\(source): \(String(describing: error.retryAfter))")
            }
        }
        let alice = try await client.user(.username("alice"))
        XCTAssertEqual(alice.failedLogins, 0, "nothing from a throttled source was checked or counted")
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.8")
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "2001:db8:0:2::1")
        _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        await client.close()
    }
}
