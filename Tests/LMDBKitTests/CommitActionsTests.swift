import Foundation
import LMDBKit
import Locking
import TestSupport
import XCTest

/// `WriteTransaction.afterCommit`: what state kept beside the database relies on.
final class CommitActionsTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    private struct Refused: Error {}

    func testActionsRunAfterTheCommitInOrderAndBeforeWriteReturns() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        let seen = Locked<[String]>([])
        try env.write { txn in
            try txn.put([1], forKey: [1], in: db)
            txn.afterCommit {
                // The commit is done: a fresh snapshot on this thread sees the write.
                let committed = (try? env.read { try $0.value(forKey: [1], in: db) }) == [1]
                seen.withLock { $0.append("first committed=\(committed)") }
            }
            txn.afterCommit { seen.withLock { $0.append("second") } }
            seen.withLock { $0.append("body") }
        }
        XCTAssertEqual(seen.withLock { $0 }, ["body", "first committed=true", "second"])
    }

    func testAnAbortedTransactionRunsNoAction() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        let ran = Locked(0)
        XCTAssertThrowsError(
            try env.write { txn in
                try txn.put([1], forKey: [1], in: db)
                txn.afterCommit { ran.withLock { $0 += 1 } }
                throw Refused()
            })
        XCTAssertEqual(ran.withLock { $0 }, 0)
    }

    func testAChildThatThrowsLosesItsActionsAndAChildThatReturnsKeepsThem() throws {
        let env = try Environment(path: directory.path)
        defer { env.close() }
        let db = try env.openDatabases(["items"])[0]
        let ran = Locked<[String]>([])
        try env.write { txn in
            txn.afterCommit { ran.withLock { $0.append("parent") } }
            XCTAssertThrowsError(
                try env.nested(in: txn) { child in
                    try child.put([2], forKey: [2], in: db)
                    child.afterCommit { ran.withLock { $0.append("undone child") } }
                    throw Refused()
                })
            try env.nested(in: txn) { child in
                try child.put([3], forKey: [3], in: db)
                child.afterCommit { ran.withLock { $0.append("kept child") } }
            }
        }
        XCTAssertEqual(ran.withLock { $0 }, ["parent", "kept child"])
    }

    func testTheCommitQueueRunsTheActionsOfWhatItCommittedBeforeAcknowledging() async throws {
        let env = try Environment(path: directory.path)
        let db = try env.openDatabases(["items"])[0]
        let queue = CommitQueue(environment: env)
        let applied = Locked<Set<Int>>([])
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<300 {
                group.addTask {
                    do {
                        try await queue.write { txn in
                            try txn.put([UInt8(i % 256)], forKey: withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) }, in: db)
                            txn.afterCommit { applied.withLock { _ = $0.insert(i) } }
                            if i % 7 == 0 { throw Refused() }
                        }
                        // Acknowledged: the action already ran.
                        XCTAssertTrue(applied.withLock { $0.contains(i) }, "write \(i) acknowledged before its action")
                    } catch {
                        XCTAssertTrue(error is Refused)
                    }
                }
            }
        }
        // The refused writes' actions never ran, even though they shared batches with the rest.
        XCTAssertEqual(applied.withLock { $0 }, Set((0..<300).filter { $0 % 7 != 0 }))
        queue.shutdown()
        env.close()
    }
}
