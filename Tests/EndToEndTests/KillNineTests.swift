import Foundation
import Locking
import Synchronization
import TesseraClient
import TesseraProtocol
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The crash harness: clients drive creates, logins, refreshes, logouts, revocations and profile
/// updates; the daemon gets SIGKILL at a random moment; after the restart every acknowledged
/// write is there, and what each acknowledgement promised holds. `TESSERA_KILLS` sets the
/// number of kills (5 here; `scripts/kill9 --kills 200` for the long run).
final class KillNineTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    /// What the clients were told, by the daemon, before it died.
    struct Acknowledged: Sendable {
        var users: [String: String] = [:]  // username → display name last acknowledged
        var liveTokens: [String: String] = [:]  // token → username (logins and refreshes not since ended)
        var endedTokens: Set<String> = []  // logged out, revoked, or replaced by a refresh
        var writes = 0
    }

    final class Ledger: Sendable {
        let state = Locked(Acknowledged())
        let stop = Atomic<Bool>(false)
        /// The acknowledged-write count at which the daemon is killed, and the signal sent
        /// when it is reached.
        private let killAt = Locked(Int.max)
        private let reached = DispatchSemaphore(value: 0)

        /// Records one acknowledged write (`update` applies what it promised).
        func acknowledge(_ update: (inout Acknowledged) -> Void) {
            let writes = state.withLock { facts in
                update(&facts)
                facts.writes += 1
                return facts.writes
            }
            if writes == killAt.withLock({ $0 }) { reached.signal() }
        }

        /// Waits until `count` more writes are acknowledged (false after 30 s without them).
        func waitForWrites(_ count: Int) -> Bool {
            killAt.withLock { $0 = state.withLock { $0.writes } + count }
            return reached.wait(timeout: .now() + 30) == .success
        }
    }

    func testEveryAcknowledgedWriteSurvivesSIGKILL() async throws {
        let kills = Int(ProcessInfo.processInfo.environment["TESSERA_KILLS"] ?? "") ?? 5
        daemon = DaemonProcess()
        try daemon.start()
        let ledger = Ledger()
        var generator = SystemRandomNumberGenerator()
        var firstVerify: [Double] = []
        var lost = 0
        var checked = Acknowledged()
        for round in 0..<kills {
            let pid = try XCTUnwrap(daemon.process?.processIdentifier)
            let socketPath = daemon.socketPath
            ledger.stop.store(false, ordering: .relaxed)
            let workers = (0..<4).map { worker in
                Task { await Self.drive(worker: worker, round: round, socketPath: socketPath, ledger: ledger) }
            }
            // A random moment: after a random number of acknowledged writes, with four clients'
            // requests in flight.
            XCTAssertTrue(ledger.waitForWrites(Int.random(in: 100...800, using: &generator)), "the clients stopped getting writes acknowledged")
            kill(pid, SIGKILL)
            ledger.stop.store(true, ordering: .relaxed)
            for worker in workers { await worker.value }
            daemon.stop()
            let restarted = Date()
            try daemon.start()
            let client = TesseraClient(socketPath: daemon.socketPath)
            let facts = ledger.state.withLock { $0 }
            if let (token, _) = facts.liveTokens.first {
                _ = try? await client.verify(token: token)
                firstVerify.append(Date().timeIntervalSince(restarted) * 1000)
            }
            // Each restart checks every write made since the last one and a sample of the earlier
            // ones; the last checks them all (re-reading everything each time would make the long
            // run quadratic in the kills).
            let toCheck = round == kills - 1 ? facts : Self.changes(in: facts, since: checked, sampling: 200)
            lost += try await Self.check(toCheck, client: client, round: round)
            checked = facts
            await client.close()
        }
        let facts = ledger.state.withLock { $0 }
        let sorted = firstVerify.sorted()
        print(
            "kill -9 harness: \(kills) kills, \(facts.writes) acknowledged writes, \(lost) lost; first verify after restart (incl. start) median \(sorted.isEmpty ? 0 : sorted[sorted.count / 2]) ms, max \(sorted.last ?? 0) ms"
        )
        XCTAssertGreaterThan(facts.writes, kills * 4, "the clients got writes acknowledged")
    }

    /// One client's loop until the daemon dies: each acknowledged reply goes into the ledger.
    private static func drive(worker: Int, round: Int, socketPath: String, ledger: Ledger) async {
        let client = TesseraClient(socketPath: socketPath)
        let password = Array("correct horse".utf8)
        var step = 0
        while !ledger.stop.load(ordering: .relaxed) {
            step += 1
            let name = "u\(round)-\(worker)-\(step)"
            do {
                _ = try await client.createUser(username: name, password: password)
                ledger.acknowledge {
                    $0.users[name] = ""
                }
                let login = try await client.login(identifier: name, password: password)
                ledger.acknowledge {
                    $0.liveTokens[login.token] = name
                }
                let renamed = "Name \(step)"
                _ = try await client.updateUser(.username(name), ProfileUpdate(displayName: renamed))
                ledger.acknowledge {
                    $0.users[name] = renamed
                }
                // A request that ends a token may commit without its reply arriving: from the
                // moment it is sent, the token is neither surely live nor surely ended.
                ledger.state.withLock { $0.liveTokens[login.token] = nil }
                let renewed = try await client.refresh(refreshToken: login.refreshToken)
                ledger.acknowledge {
                    $0.endedTokens.insert(login.token)
                    $0.liveTokens[renewed.token] = name
                }
                switch step % 3 {
                case 0:
                    ledger.state.withLock { $0.liveTokens[renewed.token] = nil }
                    try await client.logout(token: renewed.token)
                    ledger.acknowledge {
                        $0.endedTokens.insert(renewed.token)
                    }
                case 1:
                    ledger.state.withLock { $0.liveTokens[renewed.token] = nil }
                    try await client.revokeSession(renewed.sessionID)
                    ledger.acknowledge {
                        $0.endedTokens.insert(renewed.token)
                    }
                default:
                    break
                }
            } catch {
                // The daemon died mid-request: what was not acknowledged may or may not be there.
                if ledger.stop.load(ordering: .relaxed) { break }
            }
        }
        await client.close()
    }

    /// The acknowledgements of `facts` that are new or changed since `previous`, and a random
    /// sample of up to `sample` of each kind that are not.
    private static func changes(in facts: Acknowledged, since previous: Acknowledged, sampling sample: Int) -> Acknowledged {
        func pick<Value: Equatable>(_ now: [String: Value], _ before: [String: Value]) -> [String: Value] {
            let (changed, unchanged) = (now.filter { before[$0.key] != $0.value }, now.filter { before[$0.key] == $0.value })
            return changed.merging(unchanged.shuffled().prefix(sample).map { ($0.key, $0.value) }) { new, _ in new }
        }
        var subset = facts
        subset.users = pick(facts.users, previous.users)
        subset.liveTokens = pick(facts.liveTokens, previous.liveTokens)
        subset.endedTokens = facts.endedTokens.subtracting(previous.endedTokens)
            .union(previous.endedTokens.intersection(facts.endedTokens).shuffled().prefix(sample))
        return subset
    }

    /// Every acknowledgement still holds after the restart; returns how many do not.
    private static func check(_ facts: Acknowledged, client: TesseraClient, round: Int) async throws -> Int {
        var broken = 0
        for (name, displayName) in facts.users {
            let user = try await client.user(.username(name))
            if !displayName.isEmpty, user.displayName != displayName {
                XCTFail("round \(round): \(name)'s acknowledged update is gone")
                broken += 1
            }
        }
        var sessionsByUser: [String: Set<String>] = [:]
        for (token, name) in facts.liveTokens {
            let verified: VerifiedSession
            do {
                verified = try await client.verify(token: token)
            } catch {
                let listed = (try? await client.sessions(of: .username(name)).map { $0.sessionID.description }) ?? []
                let user = try? await client.user(.username(name))
                XCTFail(
                    "round \(round): \(name)'s acknowledged session: \(error); listed \(listed); token \(token.prefix(30)); user \(String(describing: user?.displayName))"
                )
                continue
            }
            if sessionsByUser[name] == nil {
                sessionsByUser[name] = Set(try await client.sessions(of: .username(name)).map { $0.sessionID.description })
            }
            if !sessionsByUser[name]!.contains(verified.sessionID?.description ?? "") {
                XCTFail("round \(round): a live session is missing from its user's index")
                broken += 1
            }
        }
        for token in facts.endedTokens {
            do {
                _ = try await client.verify(token: token)
                XCTFail("round \(round): an acknowledged logout, revocation or refresh came undone")
                broken += 1
            } catch TesseraClientError.server {
                // Refused, as acknowledged.
            }
        }
        return broken
    }
}
