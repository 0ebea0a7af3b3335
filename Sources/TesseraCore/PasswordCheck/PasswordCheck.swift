import LMDBKit
import SodiumKit
import Synchronization

/// The password check every credential operation shares: the lockout throttle, argon2id on the
/// hashing pool, a dummy hash for unknown users, and durable failure counting.
///
/// An unknown user costs exactly what a wrong password costs (one argon2id verify at the current
/// parameters, one durable write of the failure), so neither the reply nor its timing tells
/// whether an account exists.
public final class PasswordCheck: Sendable {
    let store: TesseraStore
    let configuration: AuthConfiguration
    let hashingPool: HashingPool
    let clock: any Clock
    private let dummyHash = Mutex<String?>(nil)
    /// Password checks running per throttle key: reserved before argon2id, released once the
    /// outcome (a failure included) is committed.
    private let inFlight = Mutex<[[UInt8]: UInt32]>([:])

    init(store: TesseraStore, configuration: AuthConfiguration, hashingPool: HashingPool, clock: any Clock) {
        self.store = store
        self.configuration = configuration
        self.hashingPool = hashingPool
        self.clock = clock
    }

    /// The outcome of checking a password against a stored hash.
    struct Outcome: Sendable {
        var matches: Bool
        /// A fresh hash at the configured parameters when the stored one was made with others.
        var rehashed: String?
    }

    /// Throws ``AuthError/locked(retryAfterSeconds:)`` while `state` holds a lock.
    func ensureNotLocked(_ state: ThrottleState) throws {
        if let retry = state.retryAfter(now: clock.now()) { throw AuthError.locked(retryAfterSeconds: retry) }
    }

    /// Checks the lock of `key` (whose stored state is `state`) and reserves one password check
    /// under it; call ``release(_:)`` once the outcome is committed.
    ///
    /// Guesses sent together must not all be checked before the first failure is recorded: at
    /// most as many checks as failures remain before the threshold run at once (one at a time
    /// once past it), and a check beyond that is answered `locked` without hashing.
    func reserve(_ key: [UInt8], state: ThrottleState) throws {
        try ensureNotLocked(state)
        let policy = configuration.lockout
        guard policy.threshold > 0 else { return }
        let capacity = state.failures < policy.threshold ? policy.threshold - state.failures : 1
        let admitted = inFlight.withLock { running -> Bool in
            let current = running[key, default: 0]
            guard current < capacity else { return false }
            running[key] = current + 1
            return true
        }
        guard admitted else {
            throw AuthError.locked(retryAfterSeconds: max(1, UInt32(clamping: (policy.delay(afterFailures: policy.threshold) ?? 1000) / 1000)))
        }
    }

    /// Releases a check reserved by ``reserve(_:state:)``.
    func release(_ key: [UInt8]) {
        guard configuration.lockout.threshold > 0 else { return }
        inFlight.withLock { running in
            guard let current = running[key] else { return }
            running[key] = current > 1 ? current - 1 : nil
        }
    }

    /// Checks `password` against `storedHash` on the hashing pool; with no stored hash (an unknown
    /// user) it checks against a dummy hash and never matches.
    func check(_ password: SecretBytes, against storedHash: String?) async throws -> Outcome {
        let hasher = configuration.passwordHasher
        return try await hashingPool.run { [self] () throws -> Outcome in
            guard let storedHash else {
                _ = hasher.verify(password, against: try self.dummyPasswordHash())
                return Outcome(matches: false)
            }
            guard hasher.verify(password, against: storedHash) else { return Outcome(matches: false) }
            return Outcome(matches: true, rehashed: hasher.needsRehash(storedHash) ? try hasher.hash(password) : nil)
        }
    }

    /// Hashes a new password on the hashing pool.
    func hash(_ password: SecretBytes) async throws -> String {
        let hasher = configuration.passwordHasher
        return try await hashingPool.run { try hasher.hash(password) }
    }

    /// Counts one more failed password check under `key`, durably, locking when the policy says so.
    func recordFailure(_ key: [UInt8]) async throws {
        let (store, policy, failedAt) = (self.store, configuration.lockout, clock.now())
        try await store.write { txn in
            try store.putThrottleState(policy.recordingFailure(try store.throttleState(key, in: txn), now: failedAt), forKey: key, in: txn)
        }
    }

    /// A hash of a random password at the current parameters, made once on first use.
    private func dummyPasswordHash() throws -> String {
        if let hash = dummyHash.withLock({ $0 }) { return hash }
        var random = SecureRandom.bytes(32)
        let hash = try configuration.passwordHasher.hash(SecretBytes(wiping: &random))
        dummyHash.withLock { $0 = hash }
        return hash
    }
}
