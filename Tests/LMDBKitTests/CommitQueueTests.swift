import Foundation
import LMDBKit
import Locking
import TestSupport
import XCTest

final class CommitQueueTests: XCTestCase {
    var directory: TemporaryDirectory!
    override func setUp() { directory = TemporaryDirectory() }
    override func tearDown() { directory.remove() }

    private static func key(_ i: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(i).bigEndian) { Array($0) } }

    func testEveryOperationCommitsOnTheWriterThreadAndIsDurableWhenCompleted() async throws {
        let env = try Environment(path: directory.path)
        let db = try env.openDatabases(["items"])[0]
        let queue = CommitQueue(environment: env)
        let threads = Locked<Set<String>>([])
        let threadIDs = Locked<Set<UInt>>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<500 {
                group.addTask {
                    try await queue.write { txn in
                        // The kernel's name of the thread (what `top -H` shows).
                        let name = (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "?"
                        threads.withLock { _ = $0.insert(name.trimmingCharacters(in: .newlines)) }
                        threadIDs.withLock { _ = $0.insert(UInt(pthread_self())) }
                        try txn.put([UInt8(i % 256)], forKey: Self.key(i), in: db)
                    }
                    // Acknowledged means committed: a fresh snapshot sees it.
                    XCTAssertEqual(try env.read { try $0.value(forKey: Self.key(i), in: db) }, [UInt8(i % 256)])
                }
            }
            try await group.waitForAll()
        }
        XCTAssertEqual(threads.withLock { $0 }, ["tessera-writer"])
        XCTAssertEqual(threadIDs.withLock { $0.count }, 1, "one thread begins and commits every write transaction")
        queue.shutdown()
        env.close()
    }

    func testTheWriterThreadTakesTheNicenessItIsGivenAndNoOtherThreadDoes() async throws {
        let env = try Environment(path: directory.path)
        let plain = CommitQueue(environment: env)
        let niced = CommitQueue(environment: env, niceness: 10)
        // On Linux, getpriority(PRIO_PROCESS, 0) is the calling thread's nice value.
        let current: @Sendable () -> Int32 = { Int32(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)) }
        let callers = current()
        let plainWriters = try await plain.write { _ in current() }
        let nicedWriters = try await niced.write { _ in current() }
        // Threads start at their creator's nice value (Swift's task pool threads at their quality
        // of service's): the plain writer keeps what it started with, the other is lowered to 10.
        XCTAssertLessThan(plainWriters, 10)
        XCTAssertEqual(nicedWriters, 10)
        XCTAssertEqual(current(), callers, "the caller's own thread keeps its priority")
        plain.shutdown()
        niced.shutdown()
        env.close()
    }

    func testAFailingOperationDoesNotTakeItsBatchDown() async throws {
        let env = try Environment(path: directory.path)
        let db = try env.openDatabases(["items"])[0]
        let queue = CommitQueue(environment: env)
        struct Refused: Error {}
        let outcomes = Locked<[Int: Bool]>([:])
        await withTaskGroup(of: Void.self) { group in
            for i in 0..<200 {
                group.addTask {
                    do {
                        try await queue.write { txn in
                            try txn.put([1], forKey: Self.key(i), in: db)
                            if i % 7 == 0 { throw Refused() }
                        }
                        outcomes.withLock { $0[i] = true }
                    } catch {
                        XCTAssertTrue(error is Refused)
                        outcomes.withLock { $0[i] = false }
                    }
                }
            }
        }
        for i in 0..<200 {
            let stored = try env.read { try $0.value(forKey: Self.key(i), in: db) }
            XCTAssertEqual(outcomes.withLock { $0[i] }, i % 7 != 0)
            XCTAssertEqual(stored != nil, i % 7 != 0, "operation \(i): its write is kept exactly when it succeeded")
        }
        queue.shutdown()
        env.close()
    }

    func testShutdownCommitsWhatIsQueuedThenRefuses() async throws {
        let env = try Environment(path: directory.path)
        let db = try env.openDatabases(["items"])[0]
        let queue = CommitQueue(environment: env)
        let done = Locked<Int>(0)
        for i in 0..<50 {
            queue.submit({ txn in try txn.put([1], forKey: Self.key(i), in: db) }) { result in
                if case .success = result { done.withLock { $0 += 1 } }
            }
        }
        queue.shutdown()
        XCTAssertEqual(done.withLock { $0 }, 50)
        do {
            try await queue.write { txn in try txn.put([1], forKey: [0], in: db) }
            XCTFail("a stopped queue must refuse work")
        } catch {
            XCTAssertEqual(error as? LMDBError, .closed)
        }
        env.close()
    }
}
