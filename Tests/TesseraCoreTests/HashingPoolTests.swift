import Foundation
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
}
