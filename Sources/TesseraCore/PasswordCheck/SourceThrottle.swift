import Locking

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The rule for failed logins per source address: a bucket of `burst` failures that refills at
/// `perMinute`; a source that has logged in and made no failure for `quietSeconds` counts as
/// clean.
package struct SourceThrottlePolicy: Sendable, Equatable {
    /// Failures a source may make at once (0 disables refusing; sources are still tracked for
    /// the lanes).
    package var burst: UInt32
    /// Failures a source regains a minute.
    package var perMinute: UInt32
    /// A source that has logged in and whose last failure is this old is clean: its logins use
    /// the reserved share of the hashing pool.
    package var quietSeconds: UInt32

    package init(burst: UInt32 = 20, perMinute: UInt32 = 10, quietSeconds: UInt32 = 600) {
        self.burst = burst
        self.perMinute = perMinute
        self.quietSeconds = quietSeconds
    }

    var refuses: Bool { burst > 0 && perMinute > 0 }
}

/// Failed logins per source address, in memory, before any hashing: a login from a source with
/// no failure left in its bucket is answered at once, and only a source that has logged in
/// before and made no failure recently counts as clean (``PasswordCheck``'s reserved share of
/// the hashing pool). A source never seen is not clean: addresses are cheap (an IPv6 /48 holds
/// 65,536 /64s), and a first attempt from each would otherwise take the reserved share.
///
/// A source is the client's address as the web process gives it (`client_ip`): an IPv4 address,
/// the /64 prefix of an IPv6 address (one host commonly holds a whole /64), or the text itself
/// when it is neither. The state lives in memory on purpose: it limits load on this host, not
/// guesses at an account (the durable per-identifier lock does that), and a restart forgets it.
/// At most ``capacity`` sources are tracked; when the table is full, sources whose bucket is full
/// and quiet are dropped, and a new source that still finds no room is admitted untracked and
/// never clean.
package final class SourceThrottle: Sendable {
    /// What a source may do now.
    package enum Admission: Equatable, Sendable {
        /// A failure was reserved; ``settle(_:_:now:)`` returns it unless the attempt fails.
        /// `clean`: this source has logged in, made no failure for the quiet time, and has none
        /// of its attempts in flight (so only one attempt at a time is clean).
        case admitted(clean: Bool)
        /// The source's bucket is empty: answer before hashing.
        case refused(retryAfterSeconds: UInt32)
    }

    /// How an admitted attempt ended.
    package enum Outcome: Sendable {
        /// A wrong password or second factor: the reserved failure stays spent.
        case failed
        /// A login: the failure is given back and the source has logged in.
        case succeeded
        /// Anything else (a lock, a second factor required, busy): the failure is given back.
        case other
    }

    private struct Bucket {
        var tokens: Double
        var updatedAt: Timestamp
        var lastFailureAt: Timestamp?
        var inFlight = 0
        var hasLoggedIn = false
    }

    private struct Table {
        var buckets: [[UInt8]: Bucket] = [:]
        var lastPrune: Timestamp?
    }

    package let policy: SourceThrottlePolicy
    package let capacity: Int
    private let table = Locked(Table())

    package init(policy: SourceThrottlePolicy, capacity: Int = 65_536) {
        self.policy = policy
        self.capacity = max(1, capacity)
    }

    /// Admits one attempt from `source` at `now`, reserving a failure.
    package func admit(_ source: String, now: Timestamp) -> Admission {
        let key = Self.key(source)
        return table.withLock { table -> Admission in
            guard var bucket = table.buckets[key] ?? insertionRoom(&table, now: now) else { return .admitted(clean: false) }
            refill(&bucket, now: now)
            guard bucket.tokens >= 1 || !policy.refuses else {
                let perMillisecond = Double(policy.perMinute) / 60_000
                table.buckets[key] = bucket
                return .refused(retryAfterSeconds: UInt32(min(Double(UInt32.max), ((1 - bucket.tokens) / perMillisecond / 1000).rounded(.up))))
            }
            let clean = bucket.hasLoggedIn && isQuiet(bucket, now: now) && bucket.inFlight == 0
            bucket.tokens -= 1
            bucket.inFlight += 1
            table.buckets[key] = bucket
            return .admitted(clean: clean)
        }
    }

    /// Settles an admitted attempt: a failure stays spent and marks the source; anything else
    /// gives the reserved failure back.
    package func settle(_ source: String, _ outcome: Outcome, now: Timestamp) {
        let key = Self.key(source)
        table.withLock { table in
            guard var bucket = table.buckets[key] else { return }
            bucket.inFlight = max(0, bucket.inFlight - 1)
            switch outcome {
            case .failed: bucket.lastFailureAt = now
            case .succeeded, .other:
                bucket.tokens = min(Double(policy.burst), bucket.tokens + 1)
                bucket.hasLoggedIn = bucket.hasLoggedIn || outcome == .succeeded
            }
            table.buckets[key] = bucket
        }
    }

    /// Whether an attempt from `source` admitted now would be clean (a hint: nothing is
    /// reserved).
    package func isClean(_ source: String, now: Timestamp) -> Bool {
        let key = Self.key(source)
        return table.withLock { table in
            guard let bucket = table.buckets[key] else { return false }
            return bucket.hasLoggedIn && bucket.inFlight == 0 && isQuiet(bucket, now: now)
        }
    }

    /// Sources tracked now.
    package var trackedSources: Int { table.withLock { $0.buckets.count } }

    /// A fresh bucket for a new source, after making room when the table is full; `nil` when
    /// there is none.
    private func insertionRoom(_ table: inout Table, now: Timestamp) -> Bucket? {
        if table.buckets.count >= capacity, table.lastPrune.map({ now - $0 >= 1000 }) ?? true {
            table.lastPrune = now
            table.buckets = table.buckets.filter { _, bucket in
                var bucket = bucket
                refill(&bucket, now: now)
                let full = !policy.refuses || bucket.tokens >= Double(policy.burst)
                return bucket.inFlight > 0 || !full || !isQuiet(bucket, now: now)
            }
        }
        guard table.buckets.count < capacity else { return nil }
        return Bucket(tokens: Double(policy.burst), updatedAt: now, lastFailureAt: nil)
    }

    private func refill(_ bucket: inout Bucket, now: Timestamp) {
        guard policy.refuses else {
            bucket.tokens = 1
            return
        }
        let elapsed = Double(max(0, now - bucket.updatedAt))
        bucket.tokens = min(Double(policy.burst), bucket.tokens + elapsed * Double(policy.perMinute) / 60_000)
        bucket.updatedAt = max(bucket.updatedAt, now)
    }

    private func isQuiet(_ bucket: Bucket, now: Timestamp) -> Bool {
        guard let last = bucket.lastFailureAt else { return true }
        return now - last >= Timestamp(policy.quietSeconds) * 1000
    }

    /// The table key of a source, a tag and then: the 4 bytes of an IPv4 address (an
    /// IPv4-mapped IPv6 address too), the first 8 bytes of an IPv6 address, or the text.
    static func key(_ source: String) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, source, &buffer) == 1 { return [4] + buffer[0..<4] }
        guard inet_pton(AF_INET6, source, &buffer) == 1 else { return [0] + Array(source.utf8) }
        if buffer[0..<10].allSatisfy({ $0 == 0 }) && buffer[10] == 0xFF && buffer[11] == 0xFF { return [4] + buffer[12..<16] }
        return [6] + buffer[0..<8]
    }
}
