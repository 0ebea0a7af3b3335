import Locking
import SodiumKit

/// How long a refused password check takes once it has a hashing thread, so that an attempt
/// answered without one (under a lock) takes as long and its timing does not tell a lock from
/// a wrong password.
///
/// The estimate is a moving average (weight 1/8) of the time from a refused check's start on a
/// hashing thread to the commit of its failure: argon2id at the parameters in force and the
/// durable write. The wait for a thread is not estimated but taken: an attempt under a lock
/// waits in the pool's queue for a thread like a check (running nothing on it), then for the
/// estimate. Before the first refused check there is no estimate, and the first attempt that
/// needs one runs a dummy check instead.
final class CheckPace: Sendable {
    private let average = Locked<Duration?>(nil)

    /// Adds the duration of a refused check, from its start on a hashing thread, to the estimate.
    func record(_ duration: Duration) {
        average.withLock { current in
            current = current.map { $0 + (duration - $0) / 8 } ?? duration
        }
    }

    /// The current estimate, `nil` before any refused check.
    var estimate: Duration? { average.withLock { $0 } }

    /// Waits for a thread of `passwords`' hashing pool as a check would (``AuthError/busy``
    /// when its queue is full), then returns once a refused check's time has passed since the
    /// thread was free (after a dummy check when there is no estimate yet). `meanwhile` runs
    /// in that time: what the attempt has to write.
    func wait(as passwords: PasswordCheck, meanwhile: () async throws -> Void = {}) async throws {
        let started = try await passwords.hashingPool.run { ContinuousClock.now }
        guard let estimate else {
            var random = SecureRandom.bytes(32)
            _ = try await passwords.check(SecretBytes(wiping: &random), against: nil)
            try await meanwhile()
            record(ContinuousClock.now - started)
            return
        }
        try await meanwhile()
        let deadline = started + estimate
        if deadline > ContinuousClock.now { try await Task.sleep(until: deadline, clock: .continuous) }
    }
}
