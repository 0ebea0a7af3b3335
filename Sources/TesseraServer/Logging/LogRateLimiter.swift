import Locking

/// At most `burst` lines at once, then `perSecond` lines a second, for each message: a flood of
/// one kind of line (a misbehaving client's failed requests) cannot fill the log or drown the
/// others. What was held back is counted and reported on the message's next line.
package final class LogRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updatedAt: UInt64
        var suppressed: Int
    }

    package let burst: Double
    package let perSecond: Double
    private let now: @Sendable () -> UInt64
    private let buckets = Locked<[String: Bucket]>([:])
    /// Distinct messages tracked at most; beyond it the table starts over.
    private let maximumMessages = 4096

    /// `now` returns nanoseconds on a monotonic clock.
    package init(burst: Int = 100, perSecond: Int = 20, now: @escaping @Sendable () -> UInt64 = LogRateLimiter.monotonicNanoseconds) {
        self.burst = Double(burst)
        self.perSecond = Double(perSecond)
        self.now = now
    }

    /// Whether a line with `message` may be written now: `nil` when not, else how many lines of
    /// that message were held back since the last one written.
    package func admit(_ message: String) -> Int? {
        let time = now()
        return buckets.withLock { table -> Int? in
            if table.count >= maximumMessages && table[message] == nil { table.removeAll() }
            var bucket = table[message] ?? Bucket(tokens: burst, updatedAt: time, suppressed: 0)
            let elapsed = Double(time &- bucket.updatedAt) / 1e9
            bucket.tokens = min(burst, bucket.tokens + elapsed * perSecond)
            bucket.updatedAt = time
            guard bucket.tokens >= 1 else {
                bucket.suppressed += 1
                table[message] = bucket
                return nil
            }
            bucket.tokens -= 1
            let suppressed = bucket.suppressed
            bucket.suppressed = 0
            table[message] = bucket
            return suppressed
        }
    }
}

extension LogRateLimiter {
    /// The monotonic clock in nanoseconds.
    @Sendable package static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}

#if canImport(Glibc)
import Glibc
#endif
