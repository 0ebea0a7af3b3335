import LMDBKit
import Locking

/// How many users hold a password hash of another system's scheme (``StoredPassword/isForeign``:
/// imported, not yet replaced by a login), and one dummy hash per cost among those imported:
/// what a refused check must take while any is left (``ForeignCheckPace``).
///
/// Stored in `meta`: `foreign_passwords` (u64 BE, the count) and `foreign_dummy/<cost key>` (the
/// dummy's text). The count follows every user write (``putUser(_:replacing:in:)`` and
/// ``deleteUser(_:in:)`` call ``noteForeignPassword(from:to:in:)``), so it is right after any
/// commit; the dummies are written by imports (``putForeignDummy(_:in:)``) and removed when the
/// count reaches zero. The memory copy (``ForeignPasswords``) follows the commits.
extension TesseraStore {
    static let foreignCountKey = Array("foreign_passwords".utf8)
    static let foreignDummyPrefix = Array("foreign_dummy/".utf8)
    /// At most this many costs among imported hashes: each is checked on every refused check
    /// while the import is not re-hashed, so a pathological import cannot make refusals slow
    /// without bound.
    package static let maximumForeignCosts = 16

    /// Counts the change of one user's stored hash from `old` to `new` (`nil`: no user).
    func noteForeignPassword(from old: String?, to new: String?, in txn: WriteTransaction) throws {
        guard old != new else { return }
        let before = old.flatMap(StoredPassword.init(parsing:))?.isForeign == true
        let after = new.flatMap(StoredPassword.init(parsing:))?.isForeign == true
        guard before != after else { return }
        let count = try Self.foreignCount(meta: meta, in: txn)
        let updated = after ? count + 1 : count > 0 ? count - 1 : 0
        try txn.put(Self.key(updated), forKey: Self.foreignCountKey, in: meta)
        if updated == 0 {
            for costKey in try Self.foreignPasswords(meta: meta, in: txn).dummies.keys {
                try txn.delete(Self.foreignDummyPrefix + Array(costKey.utf8), in: meta)
            }
        }
        let memory = foreignPasswords
        txn.afterCommit { memory.update(count: updated, clearingDummies: updated == 0) }
    }

    /// Keeps a dummy of `hash`'s cost when none is kept yet (nothing for a hash that is not
    /// foreign: argon2, whatever its parameters). Throws ``AuthError/invalidArgument(_:)``
    /// when ``maximumForeignCosts`` costs are kept already.
    func putForeignDummy(for hash: StoredPassword, in txn: WriteTransaction) throws {
        guard let costKey = hash.costKey else { return }
        let key = Self.foreignDummyPrefix + Array(costKey.utf8)
        guard try txn.value(forKey: key, in: meta) == nil else { return }
        guard try Self.foreignPasswords(meta: meta, in: txn).dummies.count < Self.maximumForeignCosts else {
            throw AuthError.invalidArgument("more than \(Self.maximumForeignCosts) different hash costs are imported and not yet replaced")
        }
        guard let dummy = hash.dummy() else { throw AuthError.invalidArgument("the hash's scheme refused a dummy of its cost") }
        try txn.put(Array(dummy.text.utf8), forKey: key, in: meta)
        let memory = foreignPasswords
        txn.afterCommit { memory.add(dummy: dummy.text, for: costKey) }
    }

    /// The count, as stored.
    static func foreignCount(meta: Database, in txn: some ReadableTransaction) throws -> UInt64 {
        uint64(try txn.value(forKey: foreignCountKey, in: meta)) ?? 0
    }

    /// The count and the dummies, as stored.
    static func foreignPasswords(meta: Database, in txn: some ReadableTransaction) throws -> ForeignPasswords.Snapshot {
        var snapshot = ForeignPasswords.Snapshot()
        snapshot.count = try foreignCount(meta: meta, in: txn)
        try txn.forEach(in: meta, from: foreignDummyPrefix) { key, value in
            guard key.starts(with: foreignDummyPrefix) else { return false }
            snapshot.dummies[String(decoding: key.dropFirst(foreignDummyPrefix.count), as: UTF8.self)] = String(decoding: value, as: UTF8.self)
            return true
        }
        return snapshot
    }
}

/// The memory copy of the foreign-hash count and dummies, read by every password check.
package final class ForeignPasswords: Sendable {
    /// What a check reads, once.
    package struct Snapshot: Sendable, Equatable {
        /// Users whose hash is another system's.
        package var count: UInt64 = 0
        /// A dummy hash per cost (``StoredPassword/dummy()``).
        package var dummies: [String: String] = [:]
        /// Moves whenever the dummies change: what was measured before no longer holds.
        package var generation = 0
        /// Whether refused checks are paced to the costliest hash (some user holds a foreign hash).
        package var isActive: Bool { count > 0 }
    }

    private let state: Locked<Snapshot>

    init(_ snapshot: Snapshot) { state = Locked(snapshot) }

    package var snapshot: Snapshot { state.withLock { $0 } }

    func update(count: UInt64, clearingDummies: Bool) {
        state.withLock { state in
            state.count = count
            if clearingDummies && !state.dummies.isEmpty {
                state.dummies = [:]
                state.generation += 1
            }
        }
    }

    func add(dummy: String, for costKey: String) {
        state.withLock { state in
            state.dummies[costKey] = dummy
            state.generation += 1
        }
    }
}
