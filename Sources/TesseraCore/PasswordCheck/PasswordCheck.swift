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

    /// Throws ``AuthError/locked(retryAfterSeconds:)`` while the throttle entry `key` holds a lock.
    func ensureNotLocked(_ key: [UInt8]) throws {
        try ensureNotLocked(try store.read { try store.throttleState(key, in: $0) })
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
