import Locking
import Synchronization

/// How many connections the server holds, and for whom: `maximum` in all, of which the last
/// `adminReserve` only for administrators, and at most `perUID` for any one non-admin uid. So
/// one web process (or a client that is neither admin nor application) holding every
/// connection it can get leaves room for the other web processes' uids and for the
/// administrator's CLI.
package struct ConnectionQuota: Sendable, Equatable {
    package var maximum: Int
    package var adminReserve: Int
    package var perUID: Int

    package init(maximum: Int = 4096, adminReserve: Int = 16, perUID: Int = 1024) {
        self.maximum = maximum
        self.adminReserve = adminReserve
        self.perUID = perUID
    }

    /// The slots a non-admin peer may share: all but the reserve, at least one.
    var nonAdmin: Int { max(1, maximum - adminReserve) }
}

/// The open connections, so a graceful shutdown can wait for them, and the connection slots
/// under the ``ConnectionQuota``.
final class ConnectionTracker: Sendable {
    private let open = Locked<Set<UInt64>>([])
    private let nextID = Atomic<UInt64>(1)

    private struct Slots {
        /// Connections admitted (served) and not yet closed. Taken when a connection is
        /// accepted, before it is served, so connections accepted together cannot all see the
        /// same count.
        var taken = 0
        /// Of `taken`, the slots of non-admin peers.
        var nonAdmin = 0
        var byUID: [UInt32: Int] = [:]
    }

    private let slots = Locked(Slots())

    /// Takes a slot for a peer of `uid` (`nil`: credentials unreadable, counted as one uid of
    /// its own) when the quota leaves one: an administrator while fewer than `maximum` are
    /// taken; anyone else while non-admin peers hold fewer than `maximum - adminReserve` and its
    /// uid fewer than `perUID`. Returns whether it did; a connection that got one gives it back
    /// with ``release(uid:admin:)`` when it closes.
    func admit(uid: UInt32?, admin: Bool, quota: ConnectionQuota) -> Bool {
        let key = uid ?? .max
        return slots.withLock { slots in
            guard slots.taken < quota.maximum else { return false }
            if !admin {
                guard slots.nonAdmin < quota.nonAdmin, slots.byUID[key, default: 0] < quota.perUID else { return false }
                slots.nonAdmin += 1
            }
            slots.taken += 1
            slots.byUID[key, default: 0] += 1
            return true
        }
    }

    func release(uid: UInt32?, admin: Bool) {
        let key = uid ?? .max
        slots.withLock { slots in
            slots.taken -= 1
            if !admin { slots.nonAdmin -= 1 }
            let held = slots.byUID[key, default: 1] - 1
            slots.byUID[key] = held > 0 ? held : nil
        }
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
