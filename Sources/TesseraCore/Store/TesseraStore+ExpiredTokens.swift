import LMDBKit
import TesseraModel

/// The memory of expired tokens (`expired_tokens`: kind ‖ token id → ``ExpiredTokenRecord``),
/// written when the sweeper removes a session or refresh token for expiry and forgotten once
/// the refresh lifetime has passed since.
extension TesseraStore {
    static func expiredTokenKey(_ kind: ExpiredTokenRecord.Kind, _ id: SessionID) -> [UInt8] {
        [kind.rawValue] + id.bytes
    }

    /// What is remembered of the expired token `id` of `kind`, if anything.
    func expiredToken(_ kind: ExpiredTokenRecord.Kind, _ id: SessionID, in txn: some ReadableTransaction) throws -> ExpiredTokenRecord? {
        try Self.expiredTokenKey(kind, id).withUnsafeBytes { key in
            try txn.withValue(forKey: key, in: expiredTokens) { try ExpiredTokenRecord(decoding: $0) }
        }
    }

    /// Removes an expired session (``removeSession(_:userID:in:)``: its refresh family stays)
    /// and remembers it as expired.
    func removeExpiredSession(_ id: SessionID, _ record: SessionRecord, in txn: WriteTransaction) throws {
        try removeSession(id, userID: record.userID, in: txn)
        let memory = ExpiredTokenRecord(expiredAt: record.deadline(), keyID: record.keyID, digest: record.digest)
        try txn.put(memory.encoded(), forKey: Self.expiredTokenKey(.session, id), in: expiredTokens)
    }

    /// Visits up to `limit` remembered tokens in key order from `start` (empty: the first);
    /// returns the last key visited and whether the scan reached the end.
    func scanExpiredTokens(
        from start: [UInt8], limit: Int, in txn: some ReadableTransaction,
        _ visit: ([UInt8], Timestamp) -> Void
    ) throws -> (last: [UInt8], reachedEnd: Bool) {
        var seen = 0
        var last: [UInt8] = []
        try txn.forEach(in: expiredTokens, from: start) { key, value in
            seen += 1
            last = Array(key)
            // A record that does not decode is forgotten at once.
            visit(last, (try? ExpiredTokenRecord(decoding: value))?.expiredAt ?? 0)
            return seen < limit
        }
        return (last, seen < limit)
    }

    /// Forgets a remembered token.
    func forgetExpiredToken(_ key: [UInt8], in txn: WriteTransaction) throws {
        try txn.delete(key, in: expiredTokens)
    }
}
