import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Milliseconds since the Unix epoch. Every time rule of the domain is expressed in it.
@_spi(TesseraInternal) public typealias Timestamp = Int64

/// The source of "now" for every time rule, injected so tests never sleep.
@_spi(TesseraInternal) public protocol Clock: Sendable {
    /// The current time in Unix milliseconds.
    func now() -> Timestamp
}

/// The wall clock (`CLOCK_REALTIME`).
@_spi(TesseraInternal) public struct SystemClock: Clock {
    @_spi(TesseraInternal) public init() {}
    @inline(__always)
    @_spi(TesseraInternal) public func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(ts.tv_sec) * 1000 + Timestamp(ts.tv_nsec) / 1_000_000
    }
}

/// A clock that only moves when told to. For tests.
package final class ManualClock: Clock {
    private let current: Atomic<Int64>
    package init(_ start: Timestamp = 1_700_000_000_000) { current = Atomic(start) }
    package func now() -> Timestamp { current.load(ordering: .relaxed) }
    /// Moves the clock forward by `milliseconds`.
    package func advance(by milliseconds: Int64) { current.add(milliseconds, ordering: .relaxed) }
    /// Sets the clock.
    package func set(_ time: Timestamp) { current.store(time, ordering: .relaxed) }
}
