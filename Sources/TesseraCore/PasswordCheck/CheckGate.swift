import Locking

/// Password checks in flight per throttle key, so that checks sent together cannot outrun a
/// lockout: the lock is only known once each failure is committed, after argon2id.
///
/// A check enters before argon2id and leaves once its outcome (a failure, or the success that
/// clears the count) is committed. ``enter(_:admits:)`` asks `admits` (given how many checks
/// are in flight for the key, and run under the gate's lock so that no commit-and-leave slips
/// between the decision and the entry) whether one more may start; when not, the caller waits
/// until a check under the same key leaves, then asks again. A key with nothing in flight
/// always admits, so a waiter always has a check ahead of it that will leave.
final class CheckGate: Sendable {
    private struct Entry {
        var inFlight = 0
        var waiters: [CheckedContinuation<Bool, any Error>] = []
    }

    private let entries = Locked<[[UInt8]: Entry]>([:])

    /// Waits until `admits(inFlight)` lets one more check start under `key` (with none in flight
    /// one always starts, but `admits` is still asked), then counts it. Errors thrown by `admits`
    /// are rethrown, and nothing is counted.
    func enter(_ key: [UInt8], admits: (_ inFlight: Int) throws -> Bool) async throws {
        while true {
            let entered: Bool = try await withCheckedThrowingContinuation { continuation in
                entries.withLock { table in
                    let inFlight = table[key]?.inFlight ?? 0
                    do {
                        let admitted = try admits(inFlight)
                        if admitted || inFlight == 0 {
                            table[key, default: Entry()].inFlight += 1
                            continuation.resume(returning: true)
                        } else {
                            table[key, default: Entry()].waiters.append(continuation)
                        }
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
            if entered { return }
        }
    }

    /// Ends a check under `key` and wakes every check waiting for it to ask again.
    func leave(_ key: [UInt8]) {
        let waiters = entries.withLock { table -> [CheckedContinuation<Bool, any Error>] in
            guard var entry = table[key] else { return [] }
            entry.inFlight -= 1
            let waiters = entry.waiters
            table[key] = entry.inFlight == 0 ? nil : Entry(inFlight: entry.inFlight, waiters: [])
            return waiters
        }
        for waiter in waiters { waiter.resume(returning: false) }
    }

    /// Checks in flight under `key` (for tests).
    func inFlight(_ key: [UInt8]) -> Int {
        entries.withLock { $0[key]?.inFlight ?? 0 }
    }
}
