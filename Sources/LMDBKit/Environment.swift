import CLMDB
import Locking
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How an ``Environment`` is opened.
public struct EnvironmentOptions: Sendable {
    /// The map size to start with, in bytes. The map doubles when it fills up.
    public var initialMapSize: Int = 256 << 20
    /// The size the map never grows beyond; writes past it fail with ``LMDBError/storageFull(limit:)``.
    public var maximumMapSize: Int = 64 << 30
    /// The number of named databases the environment may hold.
    public var maximumDatabases: UInt32 = 32
    /// The number of reader slots (one per concurrently open read transaction).
    public var maximumReaders: UInt32 = 512
    /// Hold an exclusive lock (`flock` on `exclusive.lock` in the directory) while open: a
    /// second process opening the environment with this option fails with ``LMDBError/inUse(path:)``.
    public var exclusive = false

    public init() {}
}

/// One LMDB environment: a directory holding `data.mdb` and `lock.mdb`.
///
/// Opened with full durability: no `MDB_NOSYNC`, `MDB_NOMETASYNC`, `MDB_MAPASYNC` or
/// `MDB_WRITEMAP`, so a committed write is on disk when ``write(_:)`` returns.
/// `MDB_NOTLS` lets a reset read transaction be renewed on any thread.
///
/// Thread safety: reads may run on any thread concurrently; every write transaction begins and
/// commits on the thread that called ``write(_:)``. A reader-writer lock keeps map growth
/// (which needs no open transaction in the process) apart from every transaction.
public final class Environment: @unchecked Sendable {
    // @unchecked: `env` is used only under `lock` (shared for transactions, exclusive for
    // growth and close); the reader pool is behind its own mutex.
    private let env: OpaquePointer
    private let lock = ReadWriteLock()
    /// One write transaction at a time in this process, from its begin to the end of its
    /// after-commit actions (LMDB's own writer lock is released by the commit).
    private let writerLock = Locked<Void>(())
    private let idleReaders = Locked<[IdleReader]>([])
    private let closedFlag = Atomic<Bool>(false)
    private let maximumMapSize: Int
    /// The descriptor holding the exclusive lock, or -1.
    private let lockDescriptor: Int32
    /// The directory holding the database files.
    public let path: String

    /// Opens (creating when absent) the environment in directory `path` with mode 0700.
    public init(path: String, options: EnvironmentOptions = .init()) throws {
        self.path = path
        self.maximumMapSize = max(options.maximumMapSize, options.initialMapSize)
        var info = stat()
        if stat(path, &info) != 0 {
            guard mkdir(path, 0o700) == 0 else { throw LMDBError(code: errno) }
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw LMDBError.other(code: ENOTDIR)
        }
        lockDescriptor = try options.exclusive ? Self.lockExclusively(path) : -1
        var handle: OpaquePointer?
        try check(mdb_env_create(&handle))
        guard let handle else { throw LMDBError.other(code: ENOMEM) }
        do {
            try check(mdb_env_set_maxdbs(handle, options.maximumDatabases))
            try check(mdb_env_set_maxreaders(handle, options.maximumReaders))
            try check(mdb_env_set_mapsize(handle, options.initialMapSize))
            try check(mdb_env_open(handle, path, UInt32(MDB_NOTLS), 0o600))
            // LMDB opens the data file's main descriptor without O_CLOEXEC (its lock file and
            // meta-page descriptors have it): no program this process starts may inherit it.
            var dataDescriptor: mdb_filehandle_t = -1
            try check(mdb_env_get_fd(handle, &dataDescriptor))
            _ = fcntl(dataDescriptor, F_SETFD, fcntl(dataDescriptor, F_GETFD) | FD_CLOEXEC)
        } catch {
            mdb_env_close(handle)
            if lockDescriptor >= 0 { Glibc.close(lockDescriptor) }
            throw error
        }
        self.env = handle
        try clearStaleReaders()
    }

    deinit { close() }

    /// Opens (creating when absent) the named databases in one write transaction.
    public func openDatabases(_ names: [String]) throws -> [Database] {
        try write { txn in
            try names.map { name in
                var dbi: MDB_dbi = 0
                try check(mdb_dbi_open(txn.handle.pointer, name, UInt32(MDB_CREATE), &dbi))
                return Database(dbi: dbi, name: name)
            }
        }
    }

    /// Runs `body` in a read-only snapshot. Cheap: a pooled transaction is renewed, not created.
    ///
    /// Inlinable so callers get a specialised copy: the verify path pays no generic dispatch.
    @inlinable
    public func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        let handle = try _beginRead()
        defer { _endRead(handle) }
        return try body(ReadTransaction(handle: handle))
    }

    /// Begins a read-only snapshot, for a caller that opens one only when it turns out to need
    /// it. Pair with exactly one ``endRead(_:)``; prefer ``read(_:)``.
    @inlinable
    public func beginRead() throws -> ReadTransaction {
        ReadTransaction(handle: try _beginRead())
    }

    /// Ends a snapshot from ``beginRead()``.
    @inlinable
    public func endRead(_ transaction: ReadTransaction) {
        _endRead(transaction.handle)
    }

    /// Takes the shared lock and a renewed reader. Pair with ``_endRead(_:)``.
    @usableFromInline
    func _beginRead() throws -> TransactionHandle {
        while true {
            lock.lockShared()
            guard !closedFlag.load(ordering: .relaxed) else {
                lock.unlock()
                throw LMDBError.closed
            }
            do {
                return TransactionHandle(pointer: try takeReader())
            } catch LMDBError.mapResized {
                lock.unlock()
                try adoptGrownMap()
            } catch {
                lock.unlock()
                throw error
            }
        }
    }

    /// Resets the reader, returns it to the pool and releases the shared lock.
    @usableFromInline
    func _endRead(_ handle: TransactionHandle) {
        mdb_txn_reset(handle.pointer)
        idleReaders.withLock { $0.append(IdleReader(txn: handle.pointer)) }
        lock.unlock()
    }

    private func takeReader() throws -> OpaquePointer {
        if let txn = idleReaders.withLock({ $0.popLast() })?.txn {
            let rc = mdb_txn_renew(txn)
            if rc == 0 { return txn }
            mdb_txn_abort(txn)
            try check(rc)
        }
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn))
        return txn!
    }

    /// Runs `body` in a write transaction on the calling thread and commits when it returns;
    /// aborts when it throws. When the map fills up, the map grows and `body` runs again, so
    /// `body` must only depend on the transaction and its captured inputs.
    public func write<R>(_ body: (WriteTransaction) throws -> R) throws -> R {
        while true {
            do {
                return try lock.withShared {
                    guard !closedFlag.load(ordering: .relaxed) else { throw LMDBError.closed }
                    return try writerLock.withLock { _ in
                        let actions = CommitActions()
                        let result = try runWriteTransaction(parent: nil, actions: actions, body)
                        for action in actions.list { action() }
                        return result
                    }
                }
            } catch LMDBError.mapFull {
                try grow()
            } catch LMDBError.mapResized {
                try adoptGrownMap()
            }
        }
    }

    /// Runs `body` inside a child transaction of `parent`: its writes are kept when it returns
    /// and discarded when it throws, leaving the parent's earlier writes intact.
    /// Its after-commit actions join the parent's when it returns.
    public func nested<R>(in parent: WriteTransaction, _ body: (WriteTransaction) throws -> R) throws -> R {
        let actions = CommitActions()
        let result = try runWriteTransaction(parent: parent.handle.pointer, actions: actions, body)
        parent.actions.list.append(contentsOf: actions.list)
        return result
    }

    /// Begins a write transaction (a child of `parent` when given), runs `body`, and commits
    /// when it returns or aborts when it throws.
    private func runWriteTransaction<R>(
        parent: OpaquePointer?, actions: CommitActions, _ body: (WriteTransaction) throws -> R
    ) throws -> R {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, parent, 0, &txn))
        let result: R
        do {
            result = try body(WriteTransaction(handle: TransactionHandle(pointer: txn!), actions: actions))
        } catch {
            mdb_txn_abort(txn)
            throw error
        }
        try check(mdb_txn_commit(txn))
        return result
    }

    /// Doubles the map (up to the maximum) while no transaction of this process is open.
    public func grow() throws {
        try lock.withExclusive {
            var info = MDB_envinfo()
            try check(mdb_env_info(env, &info))
            let current = info.me_mapsize
            guard current < maximumMapSize else { throw LMDBError.storageFull(limit: maximumMapSize) }
            try check(mdb_env_set_mapsize(env, min(current * 2, maximumMapSize)))
        }
    }

    /// Takes the map size another process grew the file to (`MDB_MAP_RESIZED`: the file holds
    /// pages past this process's map) while no transaction of this process is open.
    func adoptGrownMap() throws {
        try lock.withExclusive { try check(mdb_env_set_mapsize(env, 0)) }
    }

    /// The current map size in bytes.
    public func mapSize() throws -> Int {
        var info = MDB_envinfo()
        try check(mdb_env_info(env, &info))
        return info.me_mapsize
    }

    /// Clears reader slots left by processes that died; returns how many were cleared.
    @discardableResult
    public func clearStaleReaders() throws -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(env, &dead))
        return Int(dead)
    }

    /// The process ids holding reader slots (one per slot, live or left by a process that died),
    /// from `mdb_reader_list`.
    public func readerProcesses() throws -> [Int32] {
        final class Lines { var text = "" }
        let lines = Lines()
        let status = withExtendedLifetime(lines) {
            mdb_reader_list(
                env,
                { message, context in
                    guard let message, let context else { return 0 }
                    Unmanaged<Lines>.fromOpaque(context).takeUnretainedValue().text += String(cString: message)
                    return 0
                }, Unmanaged.passUnretained(lines).toOpaque())
        }
        guard status >= 0 else { throw LMDBError(code: status) }
        // "    pid     thread     txnid" then one line per slot in use.
        return lines.text.split(separator: "\n").dropFirst().compactMap { Int32($0.split(separator: " ").first ?? "") }
    }

    /// Closes the environment after every open transaction ended. Further use throws ``LMDBError/closed``.
    public func close() {
        lock.withExclusive {
            guard !closedFlag.exchange(true, ordering: .relaxed) else { return }
            idleReaders.withLock { readers in
                for reader in readers { mdb_txn_abort(reader.txn) }
                readers.removeAll()
            }
            mdb_env_close(env)
            if lockDescriptor >= 0 { Glibc.close(lockDescriptor) }
        }
    }

    /// Opens `path/exclusive.lock` and takes an exclusive `flock` on it, without waiting.
    private static func lockExclusively(_ path: String) throws -> Int32 {
        let descriptor = open(path + "/exclusive.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LMDBError(code: errno) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let failure = errno
            Glibc.close(descriptor)
            throw failure == EWOULDBLOCK ? LMDBError.inUse(path: path) : LMDBError(code: failure)
        }
        return descriptor
    }
}

/// A reset read transaction waiting in the pool. Safe to move between threads because the
/// environment is opened with `MDB_NOTLS`.
private struct IdleReader: @unchecked Sendable {
    let txn: OpaquePointer
}
