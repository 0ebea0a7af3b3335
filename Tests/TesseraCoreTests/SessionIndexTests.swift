import Foundation
import Locking
import Synchronization
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// The in-memory session index on its own: probing, removal by backward shift, growth,
/// authority, and readers racing the writer.
final class SessionIndexTests: XCTestCase {
    private static let roles: [UInt8] = [2, 5] + Array("admin".utf8) + [4] + Array("user".utf8)

    private func entry(_ index: SessionIndex, _ id: SessionID, user: UInt64, expiresAt: Timestamp = 2_000_000_000_000) -> SessionIndex.Entry? {
        var digest = [UInt8](repeating: 0, count: 32)
        withUnsafeBytes(of: id.low ^ user) { digest.replaceSubrange(0..<8, with: $0) }
        return digest.withUnsafeBytes { digest in
            Self.roles.withUnsafeBytes { roles in
                index.entry(
                    id, digest: digest, keyID: 7, userID: user, expiresAt: expiresAt, lastSeen: 1_000, idleSeconds: 600, rawRoles: roles)
            }
        }
    }

    private func user(_ lookup: SessionIndex.Lookup) -> UInt64? {
        if case .hit(let hit) = lookup { return hit.userID }
        return nil
    }

    func testAPutSessionIsFoundWithWhatVerifyAnswersAndARemovedOneIsAbsentOnceAuthoritative() throws {
        let index = try XCTUnwrap(SessionIndex(expected: 0))
        let id = SessionID(high: 0x0190_0000_0000_0001, low: 0x1234_5678_9abc_def0)
        index.put(try XCTUnwrap(entry(index, id, user: 42)))
        guard case .hit(let hit) = index.lookup(id) else { return XCTFail("not found") }
        XCTAssertEqual(hit.userID, 42)
        XCTAssertEqual(hit.keyID, 7)
        XCTAssertEqual(hit.expiresAt, 2_000_000_000_000)
        XCTAssertEqual(hit.lastSeen, 1_000)
        XCTAssertEqual(hit.idleSeconds, 600)
        XCTAssertEqual(hit.digest.0, id.low ^ 42)
        XCTAssertEqual(Array(hit.rawRoles), Self.roles)
        let other = SessionID(high: 1, low: 2)
        guard case .unknown = index.lookup(other) else { return XCTFail("a miss before the fill completed must send verify to LMDB") }
        index.markComplete()
        guard case .absent = index.lookup(other) else { return XCTFail("an authoritative miss is absent") }
        index.remove(id)
        guard case .absent = index.lookup(id) else { return XCTFail("removed") }
        XCTAssertEqual(index.sessionCount, 0)
        guard case .absent = index.lookup(SessionID(high: 0, low: 0)) else { return XCTFail("the empty id is never found") }
    }

    func testRemovalsShiftProbeRunsBackAndNeverLoseAnEntry() throws {
        // Ids from only 32 low words share 32 home slots: long probe runs that wrap around the
        // table's end, shifted back by every removal. Checked against a dictionary after each step.
        let index = try XCTUnwrap(SessionIndex(expected: 0))
        index.markComplete()
        var generator = SplitMix(seed: 7)
        let lows = (0..<32).map { _ in generator.next() }
        var model: [SessionID: UInt64] = [:]
        for step in 0..<20_000 {
            let id = SessionID(high: 1 + generator.next() % 400, low: lows[Int(generator.next() % 32)])
            if model[id] != nil, generator.next() % 2 == 0 {
                index.remove(id)
                model[id] = nil
            } else {
                index.put(try XCTUnwrap(entry(index, id, user: UInt64(step))))
                model[id] = UInt64(step)
            }
            if step % 997 == 0 {
                for (id, user) in model { XCTAssertEqual(self.user(index.lookup(id)), user) }
            }
        }
        for (id, user) in model { XCTAssertEqual(self.user(index.lookup(id)), user) }
        for high in 1...400 {
            for low in lows {
                let id = SessionID(high: UInt64(high), low: low)
                if model[id] == nil, case .hit = index.lookup(id) { XCTFail("\(id) was removed") }
            }
        }
        XCTAssertEqual(index.sessionCount, model.count)
    }

    func testTheTableGrowsPastThreeQuartersAndKeepsEverySession() throws {
        let index = try XCTUnwrap(SessionIndex(expected: 0))
        index.markComplete()
        XCTAssertEqual(index.capacity, SessionIndex.minimumCapacity)
        var generator = SplitMix(seed: 11)
        let ids = (0..<120_000).map { _ in SessionID(high: 1 + generator.next() >> 16, low: generator.next()) }
        for (n, id) in ids.enumerated() { index.put(try XCTUnwrap(entry(index, id, user: UInt64(n)))) }
        XCTAssertEqual(index.capacity, 4 * SessionIndex.minimumCapacity, "doubled twice: 120,000 > 3/4 of 131,072")
        for (n, id) in ids.enumerated() { XCTAssertEqual(user(index.lookup(id)), UInt64(n)) }
        for id in ids[..<60_000] { index.remove(id) }
        XCTAssertEqual(index.sessionCount, 60_000)
        for id in ids[..<60_000] {
            guard case .absent = index.lookup(id) else { return XCTFail("\(id) was removed") }
        }
        for (n, id) in ids.enumerated().dropFirst(60_000) { XCTAssertEqual(user(index.lookup(id)), UInt64(n)) }
    }

    func testASessionTheIndexCannotHoldMakesItNoLongerAuthoritative() throws {
        let index = try XCTUnwrap(SessionIndex(expected: 0))
        let id = SessionID(high: 5, low: 6)
        index.put(try XCTUnwrap(entry(index, id, user: 1)))
        index.markComplete()
        // An expiry beyond 48 bits of milliseconds (the year 10889) has no place in a slot.
        XCTAssertNil(entry(index, id, user: 1, expiresAt: 1 << 48))
        index.put(entry(index, id, user: 1, expiresAt: 1 << 48), for: id)
        guard case .unknown = index.lookup(id) else { return XCTFail("what the index cannot hold, LMDB answers") }
        guard case .unknown = index.lookup(SessionID(high: 9, low: 9)) else { return XCTFail("no miss is authoritative any more") }
        index.markComplete()
        guard case .unknown = index.lookup(SessionID(high: 9, low: 9)) else { return XCTFail("it stays so") }
    }

    func testProfilesAreStoredOncePerIdleTimeoutAndRoles() throws {
        let profiles = try XCTUnwrap(SessionProfiles(reservedBytes: 4096))
        let admin: [UInt8] = [1, 5] + Array("admin".utf8)
        let user: [UInt8] = [1, 4] + Array("user".utf8)
        let a = try XCTUnwrap(admin.withUnsafeBytes { profiles.reference(idleSeconds: 0, rawRoles: $0) })
        let b = try XCTUnwrap(user.withUnsafeBytes { profiles.reference(idleSeconds: 0, rawRoles: $0) })
        let c = try XCTUnwrap(admin.withUnsafeBytes { profiles.reference(idleSeconds: 60, rawRoles: $0) })
        XCTAssertEqual(admin.withUnsafeBytes { profiles.reference(idleSeconds: 0, rawRoles: $0) }, a)
        XCTAssertEqual(Set([a, b, c]).count, 3)
        XCTAssertEqual(profiles.usedBytes, 3 * 6 + 2 * admin.count + user.count)
        XCTAssertEqual(Array(profiles.view(c).rawRoles), admin)
        XCTAssertEqual(profiles.view(c).idleSeconds, 60)
        // Full: no reference, never a wrong one.
        let long = [UInt8](repeating: 1, count: 5000)
        XCTAssertNil(long.withUnsafeBytes { profiles.reference(idleSeconds: 0, rawRoles: $0) })
    }

    func testAGrownTableKeepsEverySlotsSequence() throws {
        // A reader that read a slot's control word before a growth released the old table's
        // pages reads zeros after: it must see the control word change. Growth once reset the
        // sequence, and with the first profile (reference 0) a copied slot's control was 0, so a
        // reader could take zeros for the user id and the digest (a torn read seen in CI).
        let index = try XCTUnwrap(SessionIndex(expected: 0))
        let first = SessionID(high: 1, low: 0x1234_5678)
        index.put(try XCTUnwrap(entry(index, first, user: 7)))
        XCTAssertEqual(index.sequence(of: first), 2)
        var generator = SplitMix(seed: 11)
        for n in 0..<SessionIndex.minimumCapacity {
            index.put(try XCTUnwrap(entry(index, SessionID(high: 2 + UInt64(n), low: generator.next()), user: 1)))
        }
        XCTAssertEqual(index.capacity, 2 * SessionIndex.minimumCapacity, "the table grew")
        XCTAssertEqual(index.sequence(of: first), 2, "the copied slot keeps its sequence")
        guard case .hit(let hit) = index.lookup(first) else { return XCTFail("found after growth") }
        XCTAssertEqual(hit.userID, 7)
    }

    func testReadersRacingRemovalsShiftsAndGrowthNeverMissALiveSession() throws {
        // 2,000 sessions stay; 2,000 others, sharing their home slots, are put and removed over
        // and over (each removal shifts entries; 100,000 more, put first, grow the table twice)
        // while two threads look the staying ones up. A reader must never miss one or read a
        // torn slot (the user id and digest disagree).
        let index = try XCTUnwrap(SessionIndex(expected: 0))
        index.markComplete()
        var generator = SplitMix(seed: 3)
        let lows = (0..<256).map { _ in generator.next() }
        let staying = (0..<2_000).map { SessionID(high: 1_000_000 + UInt64($0), low: lows[$0 % 256]) }
        let churning = (0..<2_000).map { SessionID(high: 2_000_000 + UInt64($0), low: lows[$0 % 256]) }
        for (n, id) in staying.enumerated() { index.put(try XCTUnwrap(entry(index, id, user: UInt64(n)))) }
        let stop = Atomic<Bool>(false)
        let failures = Locked<[String]>([])
        let lookups = Atomic<Int>(0)
        let finished = DispatchGroup()
        for reader in 0..<2 {
            finished.enter()
            Thread {
                var n = reader * 997
                var count = 0
                while !stop.load(ordering: .relaxed) {
                    let id = staying[n % staying.count]
                    switch index.lookup(id) {
                    case .hit(let hit):
                        if hit.userID != UInt64(n % staying.count) || hit.digest.0 != id.low ^ hit.userID {
                            failures.withLock { $0.append("torn read of \(id)") }
                        }
                    default:
                        failures.withLock { $0.append("missed \(id)") }
                    }
                    n += 1
                    count += 1
                }
                lookups.add(count, ordering: .relaxed)
                finished.leave()
            }.start()
        }
        // Growth: 100,000 more sessions, then removed again.
        let filler = (0..<100_000).map { SessionID(high: 3_000_000 + UInt64($0), low: generator.next()) }
        for id in filler { index.put(try XCTUnwrap(entry(index, id, user: 1))) }
        for round in 0..<30 {
            for (n, id) in churning.enumerated() { index.put(try XCTUnwrap(entry(index, id, user: UInt64(round * 10_000 + n)))) }
            for id in churning { index.remove(id) }
        }
        for id in filler { index.remove(id) }
        stop.store(true, ordering: .relaxed)
        finished.wait()
        XCTAssertEqual(failures.withLock { $0 }, [])
        XCTAssertGreaterThan(lookups.load(ordering: .relaxed), 0)
        XCTAssertEqual(index.sessionCount, staying.count)
        XCTAssertEqual(index.capacity, 4 * SessionIndex.minimumCapacity)
    }
}

/// A small deterministic generator (SplitMix64), so a failing sequence can be replayed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E4B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
