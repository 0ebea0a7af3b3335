import CLMDB

/// A named database inside an ``Environment``, opened once at start-up.
///
/// The handle is a plain number that stays valid for the life of the environment and may be
/// shared between threads.
public struct Database: Sendable, Hashable {
    let dbi: MDB_dbi
    /// The name the database was opened with.
    public let name: String
}
