import Locking
import Synchronization

/// The open connections, so a graceful shutdown can wait for them, and the connection slots
/// under `--max-connections`.
final class ConnectionTracker: Sendable {
    private let open = Locked<Set<UInt64>>([])
    private let nextID = Atomic<UInt64>(1)
    /// Connections admitted (served) and not yet closed. Taken when a connection is accepted,
    /// before it is served, so connections accepted together cannot all see the same count.
    private let admitted = Atomic<Int>(0)

    /// Takes a slot when fewer than `maximum` are taken. Returns whether it did; a connection
    /// that got one gives it back with ``release()`` when it closes.
    func admit(maximum: Int) -> Bool {
        var current = admitted.load(ordering: .relaxed)
        while current < maximum {
            let (exchanged, original) = admitted.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    func release() {
        admitted.subtract(1, ordering: .relaxed)
    }

    func makeID() -> UInt64 { nextID.wrappingAdd(1, ordering: .relaxed).oldValue }

    func opened(_ id: UInt64) {
        _ = open.withLock { $0.insert(id) }
    }

    func closed(_ id: UInt64) {
        _ = open.withLock { $0.remove(id) }
    }

    var count: Int { open.withLock { $0.count } }

    /// Waits until every connection closed, or `timeout` seconds passed; returns whether they all did.
    func waitUntilAllClosed(timeout: Double) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while count > 0 {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return true
    }
}
