/// Lockout with exponential backoff, per account (and per unknown identifier, so an attacker
/// cannot tell the two apart).
///
/// The first `threshold - 1` consecutive failures cost nothing but the hash. The failure that
/// reaches `threshold` locks the account for `baseDelaySeconds`; each further failure (made once
/// the lock has passed) doubles the delay, up to `maximumDelaySeconds`. A successful login
/// or an admin unlock clears the count.
public struct LockoutPolicy: Sendable, Equatable {
    public var threshold: UInt32 = 10
    public var baseDelaySeconds: UInt32 = 30
    public var maximumDelaySeconds: UInt32 = 15 * 60

    public init() {}

    public init(threshold: UInt32, baseDelaySeconds: UInt32, maximumDelaySeconds: UInt32) {
        self.threshold = threshold
        self.baseDelaySeconds = baseDelaySeconds
        self.maximumDelaySeconds = maximumDelaySeconds
    }

    /// The lock, in milliseconds, after `failures` consecutive failures; `nil` below the threshold.
    public func delay(afterFailures failures: UInt32) -> Int64? {
        guard threshold > 0, failures >= threshold else { return nil }
        let doublings = min(failures - threshold, 32)
        let seconds = min(UInt64(baseDelaySeconds) << UInt64(doublings), UInt64(maximumDelaySeconds))
        return Int64(seconds) * 1000
    }

    /// The state after one more failure at `now`.
    public func recordingFailure(_ state: ThrottleState, now: Timestamp) -> ThrottleState {
        let failures = state.failures &+ 1
        let lockedUntil = delay(afterFailures: failures).map { now + $0 } ?? state.lockedUntil
        return ThrottleState(failures: failures, lockedUntil: lockedUntil)
    }
}

/// Consecutive failures and the end of the current lock, stored per account in LMDB so they
/// survive restarts.
///
/// Layout: `u8 version=1 | u32 failures | i64 locked_until`.
public struct ThrottleState: Sendable, Equatable {
    public var failures: UInt32
    public var lockedUntil: Timestamp

    public init(failures: UInt32 = 0, lockedUntil: Timestamp = 0) {
        self.failures = failures
        self.lockedUntil = lockedUntil
    }

    /// Whole seconds until the lock ends (at least 1), or `nil` when not locked at `now`.
    public func retryAfter(now: Timestamp) -> UInt32? {
        guard lockedUntil > now else { return nil }
        return UInt32(min((lockedUntil - now + 999) / 1000, Int64(UInt32.max)))
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: 1, capacity: 13)
        writer.write(failures)
        writer.write(lockedUntil)
        return writer.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        _ = try reader.read(UInt8.self)
        failures = try reader.read()
        lockedUntil = try reader.read()
    }
}
