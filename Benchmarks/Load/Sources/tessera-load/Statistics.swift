import Histogram

/// Latencies and counts of one operation.
struct OperationStats {
    var latency = Histogram<UInt64>(highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three)
    var completed = 0
    var failed = 0
    var firstFailure: String?

    mutating func record(nanoseconds: UInt64) {
        _ = latency.record(max(1, nanoseconds))
        completed += 1
    }

    mutating func fail(_ why: String) {
        failed += 1
        if firstFailure == nil { firstFailure = why }
    }

    mutating func merge(_ other: OperationStats) {
        latency.add(other.latency)
        completed += other.completed
        failed += other.failed
        if firstFailure == nil { firstFailure = other.firstFailure }
    }

    func microseconds(_ percentile: Double) -> Double {
        Double(latency.valueAtPercentile(percentile)) / 1000
    }
}

/// The operations the generator can send.
enum LoadOperation: String, CaseIterable, Sendable {
    case verify, login, logout, refresh, redisGet = "redis-get"
}
