import LMDBKit
import Logging

/// Second factors (`two_factor`: user id → `TwoFactorRecord`). A user has at most one; deleting
/// the user deletes it (``deleteUser(_:in:)``); rotating the secret-sealing key re-seals every one
/// (``resealTwoFactorSecrets(from:to:in:)``, in the rotation's transaction).
extension TesseraStore {
    func twoFactorRecord(ofUser userID: UInt64, in txn: some ReadableTransaction) throws -> TwoFactorRecord? {
        try Self.key(userID).withUnsafeBytes { key in
            try txn.withValue(forKey: key, in: twoFactor) { try TwoFactorRecord(decoding: $0) }
        }
    }

    func putTwoFactorRecord(_ record: TwoFactorRecord, ofUser userID: UInt64, in txn: WriteTransaction) throws {
        try txn.put(record.encoded(), forKey: Self.key(userID), in: twoFactor)
    }

    /// Removes a user's second factor. Returns whether there was one.
    @discardableResult
    func deleteTwoFactorRecord(ofUser userID: UInt64, in txn: WriteTransaction) throws -> Bool {
        try txn.delete(Self.key(userID), in: twoFactor)
    }

    /// Re-seals every second factor sealed under one of `keys` with `fresh` instead. Returns how
    /// many were re-sealed. A record that opens under none of them (damaged) is left as it is and
    /// logged: its user logs in with a recovery code no more than with a TOTP code, until an
    /// administrator resets it.
    @discardableResult
    func resealTwoFactorSecrets(from keys: [TokenKey], to fresh: TokenKey, in txn: WriteTransaction) throws -> Int {
        var records: [(UInt64, TwoFactorRecord)] = []
        try txn.forEach(in: twoFactor) { key, value in
            guard key.count == 8 else { return true }
            records.append((UInt64(bigEndian: key.loadUnaligned(as: UInt64.self)), try TwoFactorRecord(decoding: value)))
            return true
        }
        var resealed = 0
        for (userID, record) in records where record.keyID != fresh.id {
            guard let key = keys.first(where: { $0.id == record.keyID && $0.purpose == .secretSealing }),
                let secrets = TwoFactorSecrets(opening: record.sealed, for: userID, with: key)
            else {
                logger.error("a second factor does not open with its sealing key", metadata: ["user.id": "\(userID)", "key.id": "\(record.keyID)"])
                continue
            }
            var updated = record
            updated.keyID = fresh.id
            updated.sealed = secrets.sealed(for: userID, with: fresh)
            try putTwoFactorRecord(updated, ofUser: userID, in: txn)
            resealed += 1
        }
        return resealed
    }
}
