import Locking
import NIOCore
import Synchronization

/// The open connections, so a graceful shutdown can drain each of them and wait, and the
/// connection slots under `--max-connections`.
final class ConnectionTracker: Sendable {
    private let channels = Locked<[ObjectIdentifier: any Channel]>([:])
    private let nextID = Atomic<UInt64>(1)
    /// Connections admitted (served) and not yet closed. Taken when a connection is accepted,
    /// before its handler runs, so connections accepted together cannot all see the same count.
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

    func opened(_ channel: any Channel) {
        channels.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func closed(_ channel: any Channel) {
        _ = channels.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    var count: Int { channels.withLock { $0.count } }

    /// Asks every connection to close once its in-flight requests have answered, then waits
    /// for them (up to `timeout`), and closes the stragglers.
    func drain(timeout: TimeAmount) async {
        let open = channels.withLock { Array($0.values) }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        }
        let deadline = NIODeadline.now() + timeout
        for channel in open {
            let remaining = deadline - .now()
            if remaining > .zero {
                _ = try? await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await channel.closeFuture.get() }
                    group.addTask { try await Task.sleep(nanoseconds: UInt64(max(0, remaining.nanoseconds))) }
                    try await group.next()
                    group.cancelAll()
                }
            }
            try? await channel.close()
        }
    }
}
