import LMDBKit
import Locking
import SodiumKit

/// The password check every credential operation shares: the lockout throttle (with the checks
/// in flight per throttle entry), argon2id on the hashing pool, a dummy hash for unknown users,
/// durable failure counting, and the pace of an attempt answered without a check.
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
    private let checksRun = Locked(0)
    let gate = CheckGate()
    let pace = CheckPace()
    let foreignPace = ForeignCheckPace()
    let sources: SourceThrottle

    init(store: TesseraStore, configuration: AuthConfiguration, hashingPool: HashingPool, clock: any Clock) {
        self.store = store
        self.configuration = configuration
        self.hashingPool = hashingPool
        self.clock = clock
        sources = SourceThrottle(policy: configuration.sourceThrottle)
        // The dummy hash is made at start, on the pool: made by the first unknown identifier's
        // check, it would make that one check slower than a wrong password.
        // While imported hashes are left, the first refusals should not wait for the first
        // measurement of what the costliest check takes (``ForeignCheckPace``).
        Task { [self] in
            _ = try? await hashingPool.run { try self.dummyPasswordHash() }
            let foreign = store.foreignPasswords.snapshot
            if foreign.isActive { foreignPace.prepare(foreign) { try await self.calibrationRun(foreign) } }
        }
    }

    /// The outcome of checking a password against a stored hash.
    struct Outcome: Sendable {
        var matches: Bool
        /// A fresh hash at the configured parameters when the stored one was made with others.
        var rehashed: String?
        /// When the check started on its hashing thread.
        var startedAt: ContinuousClock.Instant
    }

    /// Where an attempt comes from.
    enum Origin: Sendable, Equatable {
        /// An operation of a signed-in user (its session was verified).
        case signedIn
        /// A login, from the client address the web process gave (`nil`: none given).
        case login(clientIP: String?)
    }

    /// One password attempt under the lockout of `keys`, checked against `storedHash` (a dummy
    /// hash when the user is unknown).
    ///
    /// A login that names its client's address first passes that source's throttle
    /// (``SourceThrottle``): a source with no failure left answers
    /// ``AuthError/locked(retryAfterSeconds:)`` at once, before anything is read or hashed,
    /// whatever the identifier and the password. The check then runs in the hashing pool's
    /// reserved lane when nothing failed recently under its origin and its lock entry (a login
    /// from a named source that has logged in before and failed no login for the quiet time,
    /// under an identifier without failures; an operation of a signed-in user whose account
    /// has none), in the shared lane otherwise: a flood of failing
    /// logins fills the shared lane and a user without failures still gets a thread. The lane
    /// never depends on whether the identifier names an account.
    ///
    /// Waits for its turn (``CheckGate``: no more checks at once than ``LockoutPolicy`` allows
    /// for the stored state of `keys.lock`), then:
    /// - while `keys.lock` is locked, answers ``AuthError/locked(retryAfterSeconds:)`` without
    ///   evaluating the password and without counting, once a refused check's time has passed
    ///   (``CheckPace``);
    /// - while the account of `keys` is locked (through another of its identifiers), answers
    ///   ``AuthError/badCredentials`` without evaluating the password, after the same time, and
    ///   counts a failure of `keys.lock` only: what a wrong password through an unlocked
    ///   identifier, known or unknown, answers and costs;
    /// - otherwise runs argon2id: a wrong password records a failure of every entry durably and
    ///   throws ``AuthError/badCredentials``; the right one calls `succeed` with the outcome and
    ///   the turn and returns its result. `succeed` commits the success (clearing the count,
    ///   ``ThrottleTurn/clearFailures(in:)``) before the turn is given up, so no check waiting
    ///   behind it reads a stale count.
    func attempt<T: Sendable>(
        _ keys: ThrottleKeys, from origin: Origin = .signedIn, password: SecretBytes, as form: PasswordForm = .plain,
        against storedHash: String?, succeed: (Outcome, ThrottleTurn) async throws -> T
    ) async throws -> T {
        try await admitted(from: origin) { quiet in
            // The shared lane full: a check that could only wait there is refused before the
            // turn's reads (what it would get from the pool).
            guard quiet || hashingPool.hasRoom(in: .shared) else { throw AuthError.busy }
            return try await turn(keys) { turn in
                let lane = Self.lane(quiet: quiet, turn)
                try await refuseWhileLocked(turn, lane: lane)
                let foreign = store.foreignPasswords.snapshot
                let outcome = try await check(password, as: form, against: storedHash, lane: lane, paced: foreign.isActive)
                guard outcome.matches else {
                    try await padRefusal(startedAt: outcome.startedAt, foreign)
                    try await recordFailure(keys)
                    pace.record(ContinuousClock.now - outcome.startedAt)
                    throw AuthError.badCredentials
                }
                return try await succeed(outcome, turn)
            }
        }
    }

    /// The lane a check takes: the reserved one when its origin is clean and its lock entry
    /// holds no failure.
    private static func lane(quiet: Bool, _ turn: ThrottleTurn) -> HashingPool.Lane {
        quiet && turn.lock.failures == 0 ? .reserved : .shared
    }

    /// Whether a check from `origin` could start now, before anything is read (a hint for the
    /// socket thread's early `busy`): room in the shared lane, or in the reserved lane for an
    /// origin that may take it (a signed-in user, a login from a clean source).
    func mayStart(from origin: Origin) -> Bool {
        if hashingPool.hasRoom(in: .shared) { return true }
        guard hashingPool.hasRoom(in: .reserved) else { return false }
        guard case .login(let clientIP) = origin else { return true }
        return clientIP.map { sources.isClean($0, now: clock.now()) } ?? false
    }

    /// Runs `body` once the origin's source admits it (``SourceThrottle``), with whether the
    /// origin is clean (a signed-in user; a source that has logged in, without recent failure);
    /// settles the source with the outcome: a wrong password
    /// or second factor stays counted, anything else is given back.
    private func admitted<T: Sendable>(from origin: Origin, _ body: (Bool) async throws -> T) async throws -> T {
        guard case .login(let clientIP) = origin else { return try await body(true) }
        guard let clientIP else { return try await body(false) }
        let quiet: Bool
        switch sources.admit(clientIP, now: clock.now()) {
        case .refused(let retryAfterSeconds): throw AuthError.locked(retryAfterSeconds: retryAfterSeconds)
        case .admitted(let clean): quiet = clean
        }
        do {
            let result = try await body(quiet)
            sources.settle(clientIP, .succeeded, now: clock.now())
            return result
        } catch {
            let failed = error as? AuthError == .badCredentials || error as? AuthError == .twoFactorInvalid
            sources.settle(clientIP, failed ? .failed : .other, now: clock.now())
            throw error
        }
    }

    /// One second-factor attempt outside a login (a self-service REGENERATE_RECOVERY_CODES),
    /// under the same lockout as a password: the same turns, a lock answers `locked` before the
    /// code is looked at, and a wrong code counts as a failure (``AuthError/twoFactorInvalid``).
    func attempt<T: Sendable>(_ keys: ThrottleKeys, code matches: () throws -> Bool, succeed: () async throws -> T) async throws -> T {
        try await turn(keys) { turn in
            try await refuseWhileLocked(turn, lane: Self.lane(quiet: true, turn))
            guard try matches() else {
                try await recordFailure(keys)
                throw AuthError.twoFactorInvalid
            }
            return try await succeed()
        }
    }

    /// Answers an attempt under a lock (see ``attempt(_:password:against:succeed:)``) without
    /// evaluating anything, paced in the `lane` a check would take; returns when there is none.
    private func refuseWhileLocked(_ turn: ThrottleTurn, lane: HashingPool.Lane) async throws {
        let now = clock.now()
        if let retryAfterSeconds = turn.lock.retryAfter(now: now) {
            try await pace.wait(as: self, in: lane)
            throw AuthError.locked(retryAfterSeconds: retryAfterSeconds)
        }
        if let account = turn.account, account.retryAfter(now: now) != nil {
            try await pace.wait(as: self, in: lane) { try await recordFailure(ThrottleKeys(lock: turn.keys.lock)) }
            throw AuthError.badCredentials
        }
    }

    /// Runs `body` in a turn at the gate of `keys.lock`, with the throttle states read at its
    /// start.
    private func turn<T: Sendable>(_ keys: ThrottleKeys, _ body: (ThrottleTurn) async throws -> T) async throws -> T {
        let (store, clock, policy) = (self.store, self.clock, configuration.lockout)
        var turn = ThrottleTurn(keys: keys, lock: ThrottleState(), account: nil)
        try await gate.enter(keys.lock) { inFlight in
            try store.read { txn in
                turn.lock = try store.throttleState(keys.lock, in: txn)
                turn.account = try keys.account.map { try store.throttleState($0, in: txn) }
            }
            return inFlight < policy.concurrentChecks(under: turn.lock, now: clock.now())
        }
        defer { gate.leave(keys.lock) }
        return try await body(turn)
    }

    /// Checks `password` against `storedHash` on the hashing pool; with no stored hash (an unknown
    /// user) it checks against a dummy hash and never matches.
    ///
    /// Every check costs one argon2id at the current parameters, whatever the stored hash: a hash
    /// made with other parameters (before an upgrade) or of another scheme (``StoredPassword``:
    /// imported from another system) is checked at its own cost, then a right password is
    /// re-hashed at the current ones and a wrong one pays the same with a check against the dummy
    /// hash. So a user not yet re-hashed fails no faster than an unknown one. `paced` (some user
    /// holds a foreign hash) leaves that dummy check out: the refusal then waits for the
    /// costliest check's time instead (``ForeignCheckPace``), which covers it. A stored hash of no
    /// scheme Tessera checks matches nothing.
    func check(
        _ password: SecretBytes, as form: PasswordForm = .plain, against storedHash: String?, lane: HashingPool.Lane = .shared,
        paced: Bool = false
    ) async throws -> Outcome {
        let hasher = configuration.passwordHasher
        return try await hashingPool.run(lane) { [self] () throws -> Outcome in
            let startedAt = ContinuousClock.now
            checksRun.withLock { $0 += 1 }
            guard let storedHash, let stored = StoredPassword(parsing: storedHash) else {
                _ = hasher.verify(password, against: try self.dummyPasswordHash())
                return Outcome(matches: false, startedAt: startedAt)
            }
            let matches = stored.verify(password, as: form, hasher: hasher)
            guard stored.needsRehash(hasher) else { return Outcome(matches: matches, startedAt: startedAt) }
            guard matches else {
                if !paced { _ = hasher.verify(password, against: try self.dummyPasswordHash()) }
                return Outcome(matches: false, startedAt: startedAt)
            }
            return Outcome(matches: true, rehashed: try stored.replacement(for: password, as: form, hasher: hasher), startedAt: startedAt)
        }
    }

    /// Password checks run since start (``check(_:as:against:lane:paced:)``, each at least one
    /// argon2id or foreign-scheme verify): what the tests count to tell a checked attempt from
    /// one answered without a check.
    var checksStarted: Int { checksRun.withLock { $0 } }

    /// While some user holds a foreign hash, waits until the costliest check's time has passed
    /// since `startedAt` (``ForeignCheckPace``); returns at once otherwise.
    func padRefusal(startedAt: ContinuousClock.Instant, _ foreign: ForeignPasswords.Snapshot) async throws {
        guard foreign.isActive else { return }
        try await foreignPace.padRefusal(startedAt: startedAt, foreign) { [self] in try await calibrationRun(foreign) }
    }

    /// One measurement for ``ForeignCheckPace``, on a hashing thread: the longest of one argon2id
    /// check against the dummy hash and one check against each of `foreign`'s dummies, all of a
    /// random password.
    private func calibrationRun(_ foreign: ForeignPasswords.Snapshot) async throws -> Duration {
        let hasher = configuration.passwordHasher
        let dummies = foreign.dummies.values.compactMap(StoredPassword.init(parsing:))
        return try await hashingPool.run(.shared) { [self] () throws -> Duration in
            var random = SecureRandom.bytes(32)
            let password = SecretBytes(wiping: &random)
            let dummy = try dummyPasswordHash()
            var started = ContinuousClock.now
            _ = hasher.verify(password, against: dummy)
            var longest = ContinuousClock.now - started
            for stored in dummies {
                started = .now
                _ = stored.verify(password, hasher: hasher)
                longest = max(longest, ContinuousClock.now - started)
            }
            return longest
        }
    }

    /// Hashes a new password on the hashing pool.
    func hash(_ password: SecretBytes) async throws -> String {
        let hasher = configuration.passwordHasher
        return try await hashingPool.run { try hasher.hash(password) }
    }

    /// Counts one more failed check (a password, a second factor) under every entry of `keys`,
    /// durably, locking when the policy says so.
    func recordFailure(_ keys: ThrottleKeys) async throws {
        let (store, policy, now) = (self.store, configuration.lockout, clock.now())
        try await store.write { txn in
            for key in keys.all {
                try store.putThrottleState(policy.recordingFailure(try store.throttleState(key, in: txn), now: now), forKey: key, in: txn)
            }
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
