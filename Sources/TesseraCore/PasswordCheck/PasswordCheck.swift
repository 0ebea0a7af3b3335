import LMDBKit
import Locking
import SodiumKit

/// The password check every credential operation shares: the lockout throttle (with the checks
/// in flight per account), argon2id on the hashing pool, a dummy hash for unknown users, and
/// durable failure counting.
///
/// An unknown user costs exactly what a wrong password costs (one argon2id verify at the current
/// parameters, one durable write of the failure), so neither the reply nor its timing tells
/// whether an account exists.
package final class PasswordCheck: Sendable {
    let store: TesseraStore
    let configuration: AuthConfiguration
    let hashingPool: HashingPool
    let clock: any Clock
    private let dummyHash = Locked<String?>(nil)
    let gate = CheckGate()

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

    /// One password attempt under the lockout of `key`, checked against `storedHash` (a dummy
    /// hash when the user is unknown).
    ///
    /// Waits for its turn (``CheckGate``: no more checks at once than ``LockoutPolicy`` allows
    /// for the key's stored state), runs argon2id, then answers by the policy's rule:
    /// - a wrong password records a failure durably and throws ``AuthError/badCredentials``;
    /// - the right one while locked throws ``AuthError/locked(retryAfterSeconds:)``;
    /// - the right one otherwise calls `succeed` with the outcome and the stored throttle state
    ///   and returns its result. `succeed` commits the success (clearing the count) before the
    ///   turn is given up, so no check waiting behind it reads a stale count.
    func attempt<T: Sendable>(
        _ key: [UInt8], password: SecretBytes, against storedHash: String?,
        succeed: (Outcome, ThrottleState) async throws -> T
    ) async throws -> T {
        try await turn(key) { state, rule in
            let outcome = try await check(password, against: storedHash)
            guard outcome.matches else {
                try await recordFailure(key)
                throw AuthError.badCredentials
            }
            switch rule {
            case .open:
                return try await succeed(outcome, state)
            case .locked(let retryAfterSeconds):
                throw AuthError.locked(retryAfterSeconds: retryAfterSeconds)
            }
        }
    }

    /// One second-factor attempt outside a login (a self-service REGENERATE_RECOVERY_CODES),
    /// under the same lockout as a password: the same turns, a wrong code counts as a failure
    /// (``AuthError/twoFactorInvalid``), and a right one while locked answers `locked`.
    func attempt<T: Sendable>(_ key: [UInt8], code matches: () throws -> Bool, succeed: () async throws -> T) async throws -> T {
        try await turn(key) { _, rule in
            guard try matches() else {
                try await recordFailure(key)
                throw AuthError.twoFactorInvalid
            }
            switch rule {
            case .open: return try await succeed()
            case .locked(let retryAfterSeconds): throw AuthError.locked(retryAfterSeconds: retryAfterSeconds)
            }
        }
    }

    /// Runs `body` in a turn at the gate of `key`, with the throttle state read at its start and
    /// the rule it gives.
    private func turn<T: Sendable>(_ key: [UInt8], _ body: (ThrottleState, LockoutPolicy.Rule) async throws -> T) async throws -> T {
        let (store, clock, policy) = (self.store, self.clock, configuration.lockout)
        var state = ThrottleState()
        try await gate.enter(key) { inFlight in
            state = try store.read { try store.throttleState(key, in: $0) }
            return inFlight < policy.concurrentChecks(under: state, now: clock.now())
        }
        defer { gate.leave(key) }
        return try await body(state, policy.rule(for: state, now: clock.now()))
    }

    /// Checks `password` against `storedHash` on the hashing pool; with no stored hash (an unknown
    /// user) it checks against a dummy hash and never matches.
    ///
    /// Every check costs one argon2id at the current parameters, whatever the stored hash: a hash
    /// made with other parameters (before an upgrade) is checked at its own cost, then a right
    /// password is re-hashed at the current ones and a wrong one pays the same with a check
    /// against the dummy hash. So a user not yet re-hashed fails no faster than an unknown one.
    func check(_ password: SecretBytes, against storedHash: String?) async throws -> Outcome {
        let hasher = configuration.passwordHasher
        return try await hashingPool.run { [self] () throws -> Outcome in
            guard let storedHash else {
                _ = hasher.verify(password, against: try self.dummyPasswordHash())
                return Outcome(matches: false)
            }
            let matches = hasher.verify(password, against: storedHash)
            guard hasher.needsRehash(storedHash) else { return Outcome(matches: matches) }
            guard matches else {
                _ = hasher.verify(password, against: try self.dummyPasswordHash())
                return Outcome(matches: false)
            }
            return Outcome(matches: true, rehashed: try hasher.hash(password))
        }
    }

    /// Hashes a new password on the hashing pool.
    func hash(_ password: SecretBytes) async throws -> String {
        let hasher = configuration.passwordHasher
        return try await hashingPool.run { try hasher.hash(password) }
    }

    /// Counts one more failed check (a password, a second factor) under `key`, durably, locking
    /// when the policy says so.
    func recordFailure(_ key: [UInt8]) async throws {
        let (store, policy, now) = (self.store, configuration.lockout, clock.now())
        try await store.write { txn in
            try store.putThrottleState(policy.recordingFailure(try store.throttleState(key, in: txn), now: now), forKey: key, in: txn)
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
