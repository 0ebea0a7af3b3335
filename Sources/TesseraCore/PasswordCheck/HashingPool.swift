import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads for argon2id, with a bounded queue.
///
/// Each thread runs at most one hash at a time, so memory stays within
/// `threads × memlimit`. When ``queueLimit`` jobs already wait, new work is refused at once
/// with ``AuthError/busy`` instead of queueing without bound.
@_spi(TesseraInternal) public final class HashingPool: @unchecked Sendable {
    // @unchecked: `jobs` and `stopping` are only touched under `condition`.
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false
    private var running = 0
    /// Jobs allowed to wait for a thread.
    package let queueLimit: Int
    /// Number of hashing threads.
    package let threadCount: Int

    package init(threads: Int, queueLimit: Int) {
        threadCount = max(1, threads)
        self.queueLimit = max(0, queueLimit)
        for index in 0..<threadCount {
            // The thread holds this object until it stops (after shutdown), so it never outlives it.
            let thread = Thread { [self] in
                Thread.current.name = "tessera-hash-\(index)"
                Self.yieldToEventLoops()
                self.work()
            }
            thread.start()
        }
    }

    /// Runs `job` on a hashing thread. Throws ``AuthError/busy`` when the queue is full.
    package func run<T: Sendable>(_ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = enqueue { continuation.resume(with: Result { try job() }) }
            if !accepted { continuation.resume(throwing: AuthError.busy) }
        }
    }

    private func enqueue(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard acceptsJob else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Whether a job submitted now would be taken (not refused as busy). A hint: the answer
    /// may change before the job is submitted, and ``run(_:)`` decides.
    package var hasRoom: Bool {
        condition.lock()
        defer { condition.unlock() }
        return acceptsJob
    }

    /// Under `condition`: room in the queue, or a thread free for it.
    private var acceptsJob: Bool {
        !stopping && (jobs.count < queueLimit || (jobs.isEmpty && running < threadCount))
    }

    /// Jobs waiting for a thread right now.
    package var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return jobs.count
    }

    /// Finishes queued jobs, then stops the threads.
    @_spi(TesseraInternal) public func shutdown() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// Lowers this thread's scheduling priority (nice 19 on Linux, where nice is per thread),
    /// so socket threads answering verifies preempt argon2id when both want a core.
    private static func yieldToEventLoops() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 19)  // who = 0: the calling thread on Linux
        #endif
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && stopping {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            running += 1
            condition.unlock()
            job()
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }
}
