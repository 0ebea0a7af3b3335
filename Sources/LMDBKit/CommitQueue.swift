import Foundation

/// Group commit: write operations from many threads share one durable LMDB commit.
///
/// One dedicated thread owns every write transaction, so each transaction begins and commits
/// on the same thread. The thread takes every operation queued since the last commit (up to
/// ``maximumBatch``), runs them in one transaction, commits once, and only then completes each
/// operation: an acknowledgement never precedes durability.
///
/// An operation that throws must not take its neighbours down with it. The fast path runs the
/// batch without nested transactions; when an operation throws, the batch is aborted and run
/// again with each operation in its own child transaction, so the failing one is discarded
/// alone. Operations may therefore run more than once and must depend only on the transaction
/// and their captured inputs.
public final class CommitQueue: @unchecked Sendable {
    // @unchecked: `pending` and `state` are only touched under `condition`.
    private struct Operation {
        let run: (WriteTransaction) throws -> Void
        let finish: ((any Error)?) -> Void
    }
    private enum State { case running, draining, stopped }

    private let environment: Environment
    private let condition = NSCondition()
    private var pending: [Operation] = []
    private var state = State.running
    private let stopped = NSCondition()
    private var threadExited = false
    /// The most operations one commit takes.
    public let maximumBatch: Int

    /// Starts the writer thread. `niceness`: the least nice value of the writer thread on Linux,
    /// where nice is per thread (0: the process's own). A store whose readers answer on other threads
    /// and must not wait behind bulk writes gives a positive one: when both want a core, the
    /// readers' threads run first. Raising it is allowed to any process; lowering it back is not.
    public init(environment: Environment, maximumBatch: Int = 1024, niceness: Int32 = 0) {
        self.environment = environment
        self.maximumBatch = maximumBatch
        // The thread holds this object until it stops (after shutdown), so it never outlives it.
        let thread = Thread { [self] in
            Thread.current.name = "tessera-writer"
            #if os(Linux)
            let which = __priority_which_t(PRIO_PROCESS.rawValue)  // who = 0: this thread
            if getpriority(which, 0) < niceness { _ = setpriority(which, 0, niceness) }
            #endif
            self.loop()
        }
        thread.start()
    }

    /// Queues `work`; `completion` runs on the writer thread after the commit that holds it
    /// returned (or with the error that prevented it).
    public func submit<T>(
        _ work: @escaping (WriteTransaction) throws -> T,
        completion: @escaping (Result<T, any Error>) -> Void
    ) {
        let box = ResultBox<T>()
        let operation = Operation(
            run: { txn in box.value = try work(txn) },
            finish: { error in
                if let error { completion(.failure(error)) } else { completion(.success(box.value!)) }
            })
        condition.lock()
        guard state == .running else {
            condition.unlock()
            completion(.failure(LMDBError.closed))
            return
        }
        pending.append(operation)
        condition.signal()
        condition.unlock()
    }

    /// Queues `work` and waits for the commit that holds it.
    public func write<T: Sendable>(_ work: @escaping @Sendable (WriteTransaction) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            submit(work) { continuation.resume(with: $0) }
        }
    }

    /// Commits everything already queued, refuses new work and stops the writer thread.
    public func shutdown() {
        condition.lock()
        if state == .running { state = .draining }
        condition.signal()
        condition.unlock()
        stopped.lock()
        while !threadExited { stopped.wait() }
        stopped.unlock()
    }

    private func loop() {
        var batch: [Operation] = []
        batch.reserveCapacity(maximumBatch)
        while true {
            condition.lock()
            while pending.isEmpty && state == .running { condition.wait() }
            if pending.isEmpty {
                state = .stopped
                condition.unlock()
                break
            }
            let take = min(pending.count, maximumBatch)
            batch.append(contentsOf: pending.prefix(take))
            pending.removeFirst(take)
            condition.unlock()

            commit(batch)
            batch.removeAll(keepingCapacity: true)
        }
        stopped.lock()
        threadExited = true
        stopped.broadcast()
        stopped.unlock()
    }

    private func commit(_ batch: [Operation]) {
        // Fast path: one transaction, no child transactions.
        do {
            try environment.write { txn in
                for operation in batch { try operation.run(txn) }
            }
            for operation in batch { operation.finish(nil) }
            return
        } catch {
            // Fall through: isolate the operation that failed.
        }
        var errors = [(any Error)?](repeating: nil, count: batch.count)
        do {
            try environment.write { txn in
                for (index, operation) in batch.enumerated() {
                    do {
                        try environment.nested(in: txn) { child in try operation.run(child) }
                        errors[index] = nil
                    } catch LMDBError.mapFull {
                        throw LMDBError.mapFull
                    } catch {
                        errors[index] = error
                    }
                }
            }
        } catch {
            for index in errors.indices { errors[index] = error }
        }
        for (operation, error) in zip(batch, errors) { operation.finish(error) }
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    // @unchecked: written by the writer thread before `finish` reads it on the same thread.
    var value: T?
}
