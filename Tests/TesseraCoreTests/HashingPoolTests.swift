import Foundation
import Locking
import SodiumKit
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class HashingPoolTests: XCTestCase {
    func testFullQueueAnswersBusyAtOnce() async throws {
        let pool = HashingPool(threads: 1, queueLimit: 1)
        defer { pool.shutdown() }
        let started = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let first = Task {
            try await pool.run {
                started.signal()
                gate.wait()
            }
        }
        started.wait()  // the only thread is now busy
        let second = Task { try await pool.run {} }
        while pool.waiting < 1 { try await Task.sleep(nanoseconds: 1_000_000) }  // the queue is now full
        do {
            try await pool.run {}
            XCTFail("a third job must be refused")
        } catch {
            XCTAssertEqual(error as? AuthError, .busy)
        }
        gate.signal()
        try await first.value
        try await second.value
    }

    func testTheReservedLaneIsServedFirstAndHasRoomWhenTheSharedLaneIsFull() async throws {
        let pool = HashingPool(threads: 1, queueLimit: 2)
        defer { pool.shutdown() }
        let started = DispatchSemaphore(value: 0)
        let gate = DispatchSemaphore(value: 0)
        let order = Locked<[String]>([])
        let running = Task {
            try await pool.run {
                started.signal()
                gate.wait()
            }
        }
        started.wait()  // the only thread is busy
        let shared = (0..<2).map { index in Task { try await pool.run(.shared) { order.withLock { $0.append("shared \(index)") } } } }
        while pool.waiting < 2 { await Task.yield() }
        do {
            try await pool.run(.shared) {}
            XCTFail("the shared lane is full")
        } catch {
            XCTAssertEqual(error as? AuthError, .busy)
        }
        let reserved = Task { try await pool.run(.reserved) { order.withLock { $0.append("reserved") } } }
        while pool.waiting < 3 { await Task.yield() }
        gate.signal()
        try await running.value
        try await reserved.value
        for task in shared { try await task.value }
        XCTAssertEqual(order.withLock { $0 }.first, "reserved", "\(order.withLock { $0 })")
        XCTAssertEqual(order.withLock { $0 }.count, 3)
    }
}
