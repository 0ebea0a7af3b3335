import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads for argon2id, with two bounded queues.
///
/// Each thread runs at most one hash at a time, so memory stays within
/// `threads × memlimit`. Jobs wait in one of two lanes (``Lane``), each of at most
/// ``queueLimit`` jobs; a free thread takes the reserved lane's first job before the shared
/// lane's. When a lane is full, new work for it is refused at once with ``AuthError/busy``
/// instead of queueing without bound.
@_spi(TesseraInternal) public final class HashingPool: @unchecked Sendable {
    // @unchecked: the queues, `running` and `stopping` are only touched under `condition`.

    /// The queue a job waits in.
    package enum Lane: Sendable {
        /// Checks of attempts with no recent failure (``PasswordCheck`` decides): served first,
        /// so a flood of failing attempts from elsewhere delays them by at most the hashes
        /// already running.
        case reserved
        /// Everything else.
        case shared
    }

    private let condition = NSCondition()
    private var reserved: [() -> Void] = []
    private var shared: [() -> Void] = []
    private var stopping = false
    private var running = 0
    /// Jobs allowed to wait for a thread, in each lane.
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

    /// Runs `job` on a hashing thread. Throws ``AuthError/busy`` when its lane is full.
    package func run<T: Sendable>(_ lane: Lane = .shared, _ job: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = enqueue(lane) { continuation.resume(with: Result { try job() }) }
            if !accepted { continuation.resume(throwing: AuthError.busy) }
        }
    }

    private func enqueue(_ lane: Lane, _ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard accepts(lane) else { return false }
        switch lane {
        case .reserved: reserved.append(job)
        case .shared: shared.append(job)
        }
        condition.signal()
        return true
    }

    /// Whether a job submitted now in `lane` would be taken (not refused as busy). A hint: the
    /// answer may change before the job is submitted, and ``run(_:_:)`` decides.
    package func hasRoom(in lane: Lane) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return accepts(lane)
    }

    /// Under `condition`: room in the lane's queue, or a thread free for it.
    private func accepts(_ lane: Lane) -> Bool {
        let queued = lane == .reserved ? reserved.count : shared.count
        return !stopping && (queued < queueLimit || (reserved.isEmpty && shared.isEmpty && running < threadCount))
    }

    /// Jobs waiting for a thread right now, in both lanes.
    package var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return reserved.count + shared.count
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
            while reserved.isEmpty && shared.isEmpty && !stopping { condition.wait() }
            if reserved.isEmpty && shared.isEmpty && stopping {
                condition.unlock()
                return
            }
            let job = reserved.isEmpty ? shared.removeFirst() : reserved.removeFirst()
            running += 1
            condition.unlock()
            job()
            condition.lock()
            running -= 1
            condition.unlock()
        }
    }
}
