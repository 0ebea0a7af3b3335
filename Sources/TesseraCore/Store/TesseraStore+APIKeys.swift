import LMDBKit
import TesseraModel

/// API keys (`api_keys`: key id → `APIKeyRecord`) and their index by user (`user_api_keys`:
/// user id ‖ key id → empty). A revoked key stays (listed as revoked, refused as revoked) until
/// its user is deleted.
extension TesseraStore {
    func apiKeyRecord(_ id: APIKeyID, in txn: some ReadableTransaction) throws -> APIKeyRecord? {
        try id.withUnsafeBytes { key in try txn.withValue(forKey: key, in: apiKeys) { try APIKeyRecord(decoding: $0) } }
    }

    /// Stores a new key with its index entry.
    func insertAPIKey(_ id: APIKeyID, _ record: APIKeyRecord, in txn: WriteTransaction) throws {
        try txn.put(record.encoded(), forKey: id.bytes, in: apiKeys)
        try txn.put([], forKey: Self.userSessionKey(record.userID, id), in: userAPIKeys)
    }

    /// Replaces a key's record (revocation, last use, permissions); its user never changes.
    func replaceAPIKey(_ id: APIKeyID, _ record: APIKeyRecord, in txn: WriteTransaction) throws {
        try txn.put(record.encoded(), forKey: id.bytes, in: apiKeys)
    }

    /// A user's key ids, in key id order (oldest first: ids start with their creation time).
    func apiKeyIDs(ofUser userID: UInt64, in txn: some ReadableTransaction) throws -> [APIKeyID] {
        let prefix = Self.key(userID)
        var ids: [APIKeyID] = []
        try txn.forEach(in: userAPIKeys, from: prefix) { key, _ in
            guard key.count == 24, key.starts(with: prefix) else { return false }
            ids.append(APIKeyID(raw: UnsafeRawBufferPointer(start: key.baseAddress! + 8, count: 16)))
            return true
        }
        return ids
    }

    /// A user's keys as listed (oldest first, never a secret). `seenBy`: the API key asking,
    /// which sees itself among its user's keys and not the others (a session sees them all).
    func apiKeys(ofUser userID: UInt64, seenBy key: APIKeyID? = nil, in txn: some ReadableTransaction) throws -> [APIKeyInfo] {
        try apiKeyIDs(ofUser: userID, in: txn).filter { key == nil || $0 == key }
            .compactMap { id in try apiKeyRecord(id, in: txn).map { APIKeyInfo(id: id, $0) } }
            .sorted { $0.createdAt < $1.createdAt }
    }

    /// Revokes every live key of a user at `now`. Returns how many were live.
    @discardableResult
    func revokeEveryAPIKey(ofUser userID: UInt64, at now: Timestamp, in txn: WriteTransaction) throws -> Int {
        var revoked = 0
        for id in try apiKeyIDs(ofUser: userID, in: txn) {
            guard var record = try apiKeyRecord(id, in: txn), record.revokedAt == 0 else { continue }
            if record.isLive(at: now) { revoked += 1 }
            record.revokedAt = now
            try replaceAPIKey(id, record, in: txn)
        }
        return revoked
    }

    /// Removes every key of a user, with its index entries (the user is being deleted).
    func deleteAPIKeys(ofUser userID: UInt64, in txn: WriteTransaction) throws {
        for id in try apiKeyIDs(ofUser: userID, in: txn) {
            try txn.delete(id.bytes, in: apiKeys)
            try txn.delete(Self.userSessionKey(userID, id), in: userAPIKeys)
        }
    }

    /// Narrows every key of a user to permissions among `roles` (the user's roles changed: a
    /// key never holds a permission its user no longer has).
    func restrictAPIKeyPermissions(ofUser userID: UInt64, to roles: [String], in txn: WriteTransaction) throws {
        for id in try apiKeyIDs(ofUser: userID, in: txn) {
            guard var record = try apiKeyRecord(id, in: txn) else { continue }
            let kept = record.permissions.filter(roles.contains)
            guard kept != record.permissions else { continue }
            record.permissions = kept
            try replaceAPIKey(id, record, in: txn)
        }
    }

    /// Whether any live API key's digest was made under digest key `keyID` (such a key must not
    /// retire by itself: API keys can outlive every session).
    func hasLiveAPIKeys(digestKey keyID: UInt16, at now: Timestamp, in txn: some ReadableTransaction) throws -> Bool {
        var found = false
        try txn.forEach(in: apiKeys) { _, value in
            if let record = try? APIKeyRecord(decoding: value), record.keyID == keyID, record.isLive(at: now) { found = true }
            return !found
        }
        return found
    }

    /// Until when the live API keys made under digest key `keyID` hold it verify-only: the
    /// latest expiry among them, `Timestamp.max` when one never expires, `nil` when none is live.
    func apiKeysHold(digestKey keyID: UInt16, at now: Timestamp, in txn: some ReadableTransaction) throws -> Timestamp? {
        var until: Timestamp?
        try txn.forEach(in: apiKeys) { _, value in
            if let record = try? APIKeyRecord(decoding: value), record.keyID == keyID, record.isLive(at: now) {
                until = max(until ?? 0, record.expiresAt == 0 ? .max : record.expiresAt)
            }
            return until != .max
        }
        return until
    }
}
