import CLMDB

/// An error returned by LMDB, mapped from its numeric return code.
///
/// Every C call in this module goes through ``check(_:)`` so no return code is ignored.
public enum LMDBError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `MDB_KEYEXIST`: a put with "no overwrite" found the key already present.
    case keyExists
    /// `MDB_NOTFOUND`: the key is not in the database.
    case notFound
    /// `MDB_MAP_FULL`: the map is full; the environment must grow before the write is retried.
    case mapFull
    /// `MDB_READERS_FULL`: every reader slot is taken.
    case readersFull
    /// `MDB_TXN_FULL`: the transaction has too many dirty pages.
    case transactionFull
    /// `MDB_MAP_RESIZED`: another process grew the map.
    case mapResized
    /// `MDB_CORRUPTED`, `MDB_PANIC`, `MDB_PAGE_NOTFOUND`: the file is damaged or the environment must be reopened.
    case corrupted(code: Int32)
    /// `MDB_VERSION_MISMATCH`, `MDB_INVALID`: the file is not an LMDB file of this version.
    case invalidFile(code: Int32)
    /// The map reached the configured maximum size: no more data fits.
    case storageFull(limit: Int)
    /// The environment was closed.
    case closed
    /// Another process holds the environment's exclusive lock (``EnvironmentOptions/exclusive``).
    case inUse(path: String)
    /// Any other code: an LMDB-specific code or an `errno` value.
    case other(code: Int32)

    /// Maps a non-zero return code to an error.
    public init(code: Int32) {
        switch code {
        case MDB_KEYEXIST: self = .keyExists
        case MDB_NOTFOUND: self = .notFound
        case MDB_MAP_FULL: self = .mapFull
        case MDB_READERS_FULL: self = .readersFull
        case MDB_TXN_FULL: self = .transactionFull
        case MDB_MAP_RESIZED: self = .mapResized
        case MDB_CORRUPTED, MDB_PANIC, MDB_PAGE_NOTFOUND: self = .corrupted(code: code)
        case MDB_VERSION_MISMATCH, MDB_INVALID: self = .invalidFile(code: code)
        default: self = .other(code: code)
        }
    }

    public var description: String {
        switch self {
        case .storageFull(let limit): return "storage full: the database reached its maximum size of \(limit) bytes"
        case .closed: return "the database environment is closed"
        case .inUse(let path): return "another process has \(path) open (a second tesserad, or tessera-load); one at a time"
        case .keyExists: return describe(MDB_KEYEXIST)
        case .notFound: return describe(MDB_NOTFOUND)
        case .mapFull: return describe(MDB_MAP_FULL)
        case .readersFull: return describe(MDB_READERS_FULL)
        case .transactionFull: return describe(MDB_TXN_FULL)
        case .mapResized: return describe(MDB_MAP_RESIZED)
        case .corrupted(let code), .invalidFile(let code), .other(let code): return describe(code)
        }
    }

    private func describe(_ code: Int32) -> String {
        String(cString: mdb_strerror(code))
    }
}

/// Throws the ``LMDBError`` for a non-zero LMDB return code.
@inline(__always)
func check(_ code: Int32) throws(LMDBError) {
    if code != 0 { throw LMDBError(code: code) }
}
