import CLMDB

/// An opaque reference to an open LMDB transaction; it never leaves this module's API as a C type.
public struct TransactionHandle {
    @usableFromInline let pointer: OpaquePointer
    @usableFromInline init(pointer: OpaquePointer) { self.pointer = pointer }
}

/// Operations shared by read-only and read-write transactions.
///
/// Values handed to closures point into the memory map: they are valid only inside the closure
/// and only while the transaction is open. Copy the bytes out before returning.
public protocol ReadableTransaction {
    /// The underlying transaction.
    var handle: TransactionHandle { get }
}

extension ReadableTransaction {
    /// Looks `key` up in `database` and, when found, calls `body` with the value's bytes.
    ///
    /// - Returns: `body`'s result, or `nil` when the key is absent.
    @inlinable
    public func withValue<R>(
        forKey key: UnsafeRawBufferPointer,
        in database: Database,
        _ body: (UnsafeRawBufferPointer) throws -> R
    ) throws -> R? {
        try _withValue(handle, key, database, body)
    }

    /// Looks `key` up and returns a copy of its value, or `nil` when absent.
    public func value(forKey key: [UInt8], in database: Database) throws -> [UInt8]? {
        try key.withUnsafeBytes { k in
            try withValue(forKey: k, in: database) { Array($0) }
        }
    }

    /// Visits the entries of `database` in key order, starting at the first key `>= start`
    /// (or the first key when `start` is empty). `body` returns `false` to stop.
    public func forEach(
        in database: Database,
        from start: [UInt8] = [],
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(handle.pointer, database.dbi, &cursor))
        defer { mdb_cursor_close(cursor) }
        var k = MDB_val()
        var v = MDB_val()
        var rc: Int32
        var startCopy = start
        if start.isEmpty {
            rc = mdb_cursor_get(cursor, &k, &v, MDB_FIRST)
        } else {
            rc = startCopy.withUnsafeMutableBytes { s in
                k = MDB_val(mv_size: s.count, mv_data: s.baseAddress)
                return mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE)
            }
        }
        while rc == 0 {
            let keep = try body(
                UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
                UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
            if !keep { return }
            rc = mdb_cursor_get(cursor, &k, &v, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try check(rc) }
    }

    /// The number of entries in `database`.
    public func count(of database: Database) throws -> Int {
        var stat = MDB_stat()
        try check(mdb_stat(handle.pointer, database.dbi, &stat))
        return Int(stat.ms_entries)
    }
}

@usableFromInline
func _withValue<R>(
    _ handle: TransactionHandle,
    _ key: UnsafeRawBufferPointer,
    _ database: Database,
    _ body: (UnsafeRawBufferPointer) throws -> R
) throws -> R? {
    var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
    var v = MDB_val()
    let rc = mdb_get(handle.pointer, database.dbi, &k, &v)
    if rc == MDB_NOTFOUND { return nil }
    try check(rc)
    return try body(UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
}

/// A read-only snapshot. Obtained only through ``Environment/read(_:)``.
public struct ReadTransaction: ReadableTransaction {
    public let handle: TransactionHandle
    @usableFromInline init(handle: TransactionHandle) { self.handle = handle }
}

/// A read-write transaction. Obtained only through ``Environment/write(_:)`` or a
/// ``CommitQueue``; it commits when the closure returns and aborts when it throws.
public struct WriteTransaction: ReadableTransaction {
    public let handle: TransactionHandle
    /// What runs once this transaction's writes are durable (see ``afterCommit(_:)``).
    let actions: CommitActions

    init(handle: TransactionHandle, actions: CommitActions) {
        self.handle = handle
        self.actions = actions
    }

    /// Runs `action` after the outermost transaction holding this one has committed, on the
    /// committing thread, before ``Environment/write(_:)`` returns (so before a ``CommitQueue``
    /// acknowledges anything it committed), and before the next write transaction begins:
    /// actions run in the order their writes were made, and never for writes that were undone
    /// (an abort, a child transaction that threw, a commit that failed). This is how state kept
    /// beside the database follows it exactly. An action runs under the environment's write
    /// lock: it must be short and must not begin a transaction.
    public func afterCommit(_ action: @escaping () -> Void) {
        actions.list.append(action)
    }

    /// Stores `value` under `key`. With `overwrite: false` an existing key throws ``LMDBError/keyExists``.
    public func put(_ value: UnsafeRawBufferPointer, forKey key: UnsafeRawBufferPointer, in database: Database, overwrite: Bool = true) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(handle.pointer, database.dbi, &k, &v, overwrite ? 0 : UInt32(MDB_NOOVERWRITE)))
    }

    /// Stores `value` under `key` (array convenience).
    public func put(_ value: [UInt8], forKey key: [UInt8], in database: Database, overwrite: Bool = true) throws {
        try value.withUnsafeBytes { v in
            try key.withUnsafeBytes { k in
                try put(v, forKey: k, in: database, overwrite: overwrite)
            }
        }
    }

    /// Deletes `key`. Returns `false` when it was not present.
    @discardableResult
    public func delete(_ key: [UInt8], in database: Database) throws -> Bool {
        try key.withUnsafeBytes { kb in
            var k = MDB_val(mv_size: kb.count, mv_data: UnsafeMutableRawPointer(mutating: kb.baseAddress))
            let rc = mdb_del(handle.pointer, database.dbi, &k, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc)
            return true
        }
    }
}

/// The actions registered with ``WriteTransaction/afterCommit(_:)``, in order.
final class CommitActions {
    var list: [() -> Void] = []
}
