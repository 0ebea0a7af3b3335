import Locking
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// The gate's line, without argon2id or LMDB: who is asked when, and that nobody is stranded.
final class CheckGateTests: XCTestCase {
    private struct Refused: Error {}

    /// A gate with one check in flight under `key` and `count` more waiting in line, each asking
    /// `admits`; returns the stream on which each waiter reports its entry (its index) or its
    /// error (-1).
    private func line(
        _ gate: CheckGate, _ key: [UInt8], count: Int, asked: Locked<Int>, admits: @escaping @Sendable (Int) throws -> Bool
    ) async throws -> AsyncStream<Int>.Iterator {
        try await gate.enter(key, admits: admits)
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        for index in 0..<count {
            Task {
                do {
                    try await gate.enter(key, admits: admits)
                    continuation.yield(index)
                } catch {
                    continuation.yield(-1)
                }
            }
        }
        // Every waiter has asked once and stands in line.
        while asked.withLock({ $0 }) < count + 1 { await Task.yield() }
        return stream.makeAsyncIterator()
    }

    func testALeaveAsksTheFirstInLineNotEveryWaiter() async throws {
        let gate = CheckGate()
        let key: [UInt8] = [2, 1]
        let asked = Locked(0)
        var entries = try await line(gate, key, count: 100, asked: asked) { inFlight in
            asked.withLock { $0 += 1 }
            return inFlight < 1
        }
        var entered = Set<Int>()
        for _ in 0..<100 {
            gate.leave(key)
            let index = await entries.next()
            entered.insert(try XCTUnwrap(index))
        }
        gate.leave(key)
        XCTAssertEqual(entered, Set(0..<100))
        XCTAssertEqual(gate.inFlight(key), 0)
        // Each leave: the first in line asks and enters, then the next asks and is refused. Waking
        // every waiter at each leave would ask ~5,000 times.
        XCTAssertLessThanOrEqual(asked.withLock { $0 }, 101 + 2 * 100)
    }

    func testWhenTheRuleOpensOneLeaveLetsTheWholeLineIn() async throws {
        let gate = CheckGate()
        let key: [UInt8] = [2, 2]
        let (asked, open) = (Locked(0), Locked(false))
        var entries = try await line(gate, key, count: 50, asked: asked) { inFlight in
            asked.withLock { $0 += 1 }
            return open.withLock { $0 } || inFlight < 1
        }
        open.withLock { $0 = true }
        gate.leave(key)
        var entered = Set<Int>()
        for _ in 0..<50 {
            let index = await entries.next()
            entered.insert(try XCTUnwrap(index))
        }
        XCTAssertEqual(entered, Set(0..<50), "each admitted waiter woke the next")
        XCTAssertEqual(gate.inFlight(key), 50)
        for _ in 0..<50 { gate.leave(key) }
        XCTAssertEqual(gate.inFlight(key), 0)
    }

    func testAWaiterWhoseQuestionFailsPassesTheTurnOn() async throws {
        let gate = CheckGate()
        let key: [UInt8] = [2, 3]
        let (asked, poisoned) = (Locked(0), Locked(false))
        var entries = try await line(gate, key, count: 10, asked: asked) { inFlight in
            asked.withLock { $0 += 1 }
            if poisoned.withLock({ value in
                defer { value = false }
                return value
            }) {
                throw Refused()
            }
            return inFlight < 1
        }
        poisoned.withLock { $0 = true }
        gate.leave(key)
        // The first in line fails to ask and passes the turn on before its error reaches its
        // caller, so the next one's entry may be reported first.
        let (first, second) = (await entries.next(), await entries.next())
        let firstTwo = [try XCTUnwrap(first), try XCTUnwrap(second)]
        XCTAssertEqual(firstTwo.filter { $0 == -1 }.count, 1, "the first in line failed to ask")
        var entered = Set(firstTwo.filter { $0 >= 0 })
        XCTAssertEqual(entered.count, 1, "and the next one entered in its place")
        for _ in 0..<8 {
            gate.leave(key)
            let index = await entries.next()
            entered.insert(try XCTUnwrap(index))
        }
        XCTAssertEqual(entered.count, 9, "the others entered, one by one")
        gate.leave(key)
        XCTAssertEqual(gate.inFlight(key), 0)
    }
}
