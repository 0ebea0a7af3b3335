import Locking

/// Password checks in flight per throttle key, so that checks sent together cannot outrun a
/// lockout: the lock is only known once each failure is committed, after argon2id.
///
/// A check enters before argon2id and leaves once its outcome (a failure, or the success that
/// clears the count) is committed. ``enter(_:admits:)`` asks `admits` (given how many checks
/// are in flight for the key, and run under the gate's lock so that no commit-and-leave slips
/// between the decision and the entry) whether one more may start; when not, the caller waits
/// in line. A key with nothing in flight always admits, so a waiter always has a check ahead
/// of it that will leave.
///
/// The line is first come, first asked: a check that leaves wakes the first waiter only, which
/// asks again; one that is admitted wakes the next, which asks in turn, and one that is not
/// goes back to the head of the line. So a leave costs one question per check it lets in plus
/// one, not one per waiter (a burst of hundreds of attempts at a locked identifier waits
/// without being woken at every turn).
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
        var woken = false
        while true {
            let entered: Bool = try await withCheckedThrowingContinuation { continuation in
                let next = entries.withLock { table -> CheckedContinuation<Bool, any Error>? in
                    var entry = table[key] ?? Entry()
                    defer { table[key] = entry.inFlight == 0 && entry.waiters.isEmpty ? nil : entry }
                    do {
                        guard try admits(entry.inFlight) || entry.inFlight == 0 else {
                            if woken { entry.waiters.insert(continuation, at: 0) } else { entry.waiters.append(continuation) }
                            return nil
                        }
                        entry.inFlight += 1
                        continuation.resume(returning: true)
                    } catch {
                        continuation.resume(throwing: error)
                    }
                    // Admitted or failed: the next in line asks in turn.
                    return entry.waiters.isEmpty ? nil : entry.waiters.removeFirst()
                }
                next?.resume(returning: false)
            }
            if entered { return }
            woken = true
        }
    }

    /// Ends a check under `key` and wakes the first check waiting in line to ask again.
    func leave(_ key: [UInt8]) {
        let next = entries.withLock { table -> CheckedContinuation<Bool, any Error>? in
            guard var entry = table[key] else { return nil }
            entry.inFlight -= 1
            let next = entry.waiters.isEmpty ? nil : entry.waiters.removeFirst()
            table[key] = entry.inFlight == 0 && entry.waiters.isEmpty ? nil : entry
            return next
        }
        next?.resume(returning: false)
    }

    /// Checks in flight under `key` (for tests).
    func inFlight(_ key: [UInt8]) -> Int {
        entries.withLock { $0[key]?.inFlight ?? 0 }
    }
}
