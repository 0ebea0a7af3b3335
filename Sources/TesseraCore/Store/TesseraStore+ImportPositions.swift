import LMDBKit

/// Where each import source got to (`meta`: `import_position/<source>` → u64 BE): written in
/// the same transaction as the batch it follows, so a resumed import starts after what was
/// committed, never after what was not.
extension TesseraStore {
    static let importPositionPrefix = Array("import_position/".utf8)

    func importPosition(of source: String, in txn: some ReadableTransaction) throws -> UInt64 {
        Self.uint64(try txn.value(forKey: Self.importPositionPrefix + Array(source.utf8), in: meta)) ?? 0
    }

    func putImportPosition(_ position: UInt64, of source: String, in txn: WriteTransaction) throws {
        try txn.put(Self.key(position), forKey: Self.importPositionPrefix + Array(source.utf8), in: meta)
    }
}
