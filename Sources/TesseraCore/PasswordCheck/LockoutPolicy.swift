/// Lockout with exponential backoff, per throttle entry: each login identifier (known or
/// unknown alike, so an attacker cannot tell the two apart) and each account.
///
/// The first `threshold - 1` consecutive failures cost nothing but the hash. The failure that
/// reaches `threshold` locks the entry for `baseDelaySeconds`; each further failure (after the
/// lock has passed) doubles the delay from its own time, up to `maximumDelaySeconds`. A
/// successful login or an admin unlock clears the count.
///
/// While an entry is locked no password is checked against it: ``PasswordCheck`` answers every
/// attempt `locked` (or, for an account locked through another identifier, `bad-credentials`)
/// before argon2id, after the time a check takes, and does not count it.
package struct LockoutPolicy: Sendable, Equatable {
    package var threshold: UInt32 = 10
    package var baseDelaySeconds: UInt32 = 30
    package var maximumDelaySeconds: UInt32 = 15 * 60

    package init() {}

    package init(threshold: UInt32, baseDelaySeconds: UInt32, maximumDelaySeconds: UInt32) {
        self.threshold = threshold
        self.baseDelaySeconds = baseDelaySeconds
        self.maximumDelaySeconds = maximumDelaySeconds
    }

    /// How many password checks may run at once under `state` at `now`: the failures left
    /// before the threshold, one at a time once it is reached, any number with no lockout.
    ///
    /// Checks sent together cannot outrun the lock: the failure of each is committed before a
    /// check that would exceed the threshold starts.
    package func concurrentChecks(under state: ThrottleState, now: Timestamp) -> Int {
        guard threshold > 0 else { return Int.max }
        guard state.failures < threshold, state.retryAfter(now: now) == nil else { return 1 }
        return Int(threshold - state.failures)
    }

    /// The lock, in milliseconds, after `failures` consecutive failures; `nil` below the threshold.
    package func delay(afterFailures failures: UInt32) -> Int64? {
        guard threshold > 0, failures >= threshold else { return nil }
        let doublings = min(failures - threshold, 32)
        let seconds = min(UInt64(baseDelaySeconds) << UInt64(doublings), UInt64(maximumDelaySeconds))
        return Int64(seconds) * 1000
    }

    /// The state after one more failure at `now`.
    package func recordingFailure(_ state: ThrottleState, now: Timestamp) -> ThrottleState {
        let failures = state.failures &+ 1
        let lockedUntil = delay(afterFailures: failures).map { now + $0 } ?? state.lockedUntil
        return ThrottleState(failures: failures, lockedUntil: lockedUntil, lastFailureAt: now)
    }

    /// Whether the entry of an unknown identifier can be forgotten at `now`: its lock has
    /// passed and its last failure is older than the longest delay. Forgetting it costs an
    /// attacker nothing it could not get by trying another identifier.
    package func isStale(_ state: ThrottleState, now: Timestamp) -> Bool {
        state.lockedUntil <= now && state.lastFailureAt + Int64(maximumDelaySeconds) * 1000 <= now
    }
}

/// Consecutive failures, the end of the current lock and the time of the last failure, stored
/// per account (and per unknown identifier) in LMDB so they survive restarts.
///
/// Layout: `u8 version=1 | u32 failures | i64 locked_until | i64 last_failure_at` (the last
/// field was appended; records without it read as 0).
package struct ThrottleState: Sendable, Equatable {
    package var failures: UInt32
    package var lockedUntil: Timestamp
    package var lastFailureAt: Timestamp

    package init(failures: UInt32 = 0, lockedUntil: Timestamp = 0, lastFailureAt: Timestamp = 0) {
        self.failures = failures
        self.lockedUntil = lockedUntil
        self.lastFailureAt = lastFailureAt
    }

    /// Whole seconds until the lock ends (at least 1), or `nil` when not locked at `now`.
    package func retryAfter(now: Timestamp) -> UInt32? {
        guard lockedUntil > now else { return nil }
        return UInt32(min((lockedUntil - now + 999) / 1000, Int64(UInt32.max)))
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: 1, capacity: 21)
        writer.write(failures)
        writer.write(lockedUntil)
        writer.write(lastFailureAt)
        return writer.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        _ = try reader.read(UInt8.self)
        failures = try reader.read()
        lockedUntil = try reader.read()
        lastFailureAt = reader.isAtEnd ? 0 : try reader.read()
    }
}
