import LMDBKit
import TesseraModel

/// Sessions and refresh families: `sessions`, `user_sessions`, `refresh_tokens`,
/// `refresh_families`.
///
/// Invariants: every session has its `user_sessions` entry and the other way round, and, once
/// its transaction committed, its entry in the in-memory ``SessionIndex`` (every write of
/// `sessions` goes through ``putSession`` or ``removeSession(_:userID:in:)``); a session
/// opened by LOGIN or REFRESH names its refresh family, and ending such a session (logout,
/// revoke, password change, account disabled or deleted) revokes the family, so its refresh
/// token cannot bring the session back. Only expiry removes a session and keeps its family:
/// an expired access token is what a refresh token is for.
extension TesseraStore {
    // MARK: Reads

    func sessionRecord(_ id: SessionID, in txn: some ReadableTransaction) throws -> SessionRecord? {
        try id.withUnsafeBytes { key in try txn.withValue(forKey: key, in: sessions) { try SessionRecord(decoding: $0) } }
    }

    func refreshRecord(_ id: SessionID, in txn: some ReadableTransaction) throws -> RefreshRecord? {
        try id.withUnsafeBytes { key in try txn.withValue(forKey: key, in: refreshTokens) { try RefreshRecord(decoding: $0) } }
    }

    func refreshFamily(_ id: SessionID, in txn: some ReadableTransaction) throws -> RefreshFamily? {
        try id.withUnsafeBytes { key in try txn.withValue(forKey: key, in: refreshFamilies) { try RefreshFamily(decoding: $0) } }
    }

    /// The session ids of a user, from the `user_sessions` index, in id order: all of them, or
    /// at most `limit` after the id `after`.
    func sessionIDs(ofUser id: UInt64, after: SessionID? = nil, limit: Int = .max, in txn: some ReadableTransaction) throws -> [SessionID] {
        let prefix = Self.key(id)
        var ids: [SessionID] = []
        guard limit > 0 else { return ids }
        // Just after `after`: its key with one more byte.
        let start = after.map { Self.userSessionKey(id, $0) + [0] } ?? prefix
        try txn.forEach(in: userSessions, from: start) { key, _ in
            guard key.count == 24, key.starts(with: prefix) else { return false }
            ids.append(SessionID(raw: UnsafeRawBufferPointer(start: key.baseAddress! + 8, count: 16)))
            return ids.count < limit
        }
        return ids
    }

    /// How many sessions made under key `keyID` are live at `now` (a walk of every session: an
    /// administrator's question, asked off the writer thread).
    func countSessions(keyID: UInt16, liveAt now: Timestamp, in txn: some ReadableTransaction) throws -> Int {
        var count = 0
        try txn.forEach(in: sessions) { _, value in
            if let record = try? SessionRecord(decoding: value), record.keyID == keyID, record.deadline() > now { count += 1 }
            return true
        }
        return count
    }

    /// Visits up to `limit` sessions in key order from `start`; returns the last key visited.
    func scanSessions(
        from start: [UInt8], limit: Int, in txn: some ReadableTransaction,
        _ visit: (SessionID, SessionRecord) -> Void
    ) throws -> (last: [UInt8], reachedEnd: Bool) {
        try scan(sessions, from: start, limit: limit, in: txn, decode: { try SessionRecord(decoding: $0) }, visit)
    }

    /// Visits up to `limit` refresh tokens in key order from `start`; returns the last key visited.
    func scanRefreshTokens(
        from start: [UInt8], limit: Int, in txn: some ReadableTransaction,
        _ visit: (SessionID, RefreshRecord) -> Void
    ) throws -> (last: [UInt8], reachedEnd: Bool) {
        try scan(refreshTokens, from: start, limit: limit, in: txn, decode: { try RefreshRecord(decoding: $0) }, visit)
    }

    /// Records that do not decode are skipped, not fatal: the sweeper must get past them.
    private func scan<Record>(
        _ database: Database, from start: [UInt8], limit: Int, in txn: some ReadableTransaction,
        decode: (UnsafeRawBufferPointer) throws -> Record,
        _ visit: (SessionID, Record) -> Void
    ) throws -> (last: [UInt8], reachedEnd: Bool) {
        var seen = 0
        var last: [UInt8] = []
        try txn.forEach(in: database, from: start) { key, value in
            seen += 1
            last = Array(key)
            if key.count == SessionID.length, let record = try? decode(value) { visit(SessionID(raw: key), record) }
            return seen < limit
        }
        return (last, seen < limit)
    }

    // MARK: Sessions

    /// Inserts a new session with its `user_sessions` entry.
    func insertSession(_ id: SessionID, _ record: SessionRecord, in txn: WriteTransaction) throws {
        try putSession(id, record, overwrite: false, in: txn)
        try txn.put([], forKey: Self.userSessionKey(record.userID, id), in: userSessions)
    }

    /// Rewrites an existing session's record (same user: its index entry stays).
    func replaceSession(_ id: SessionID, _ record: SessionRecord, in txn: WriteTransaction) throws {
        try putSession(id, record, overwrite: true, in: txn)
    }

    /// Writes a session's record, and its entry in the in-memory ``SessionIndex`` once the
    /// transaction commits.
    private func putSession(_ id: SessionID, _ record: SessionRecord, overwrite: Bool, in txn: WriteTransaction) throws {
        let bytes = record.encoded()
        try id.withUnsafeBytes { key in
            try bytes.withUnsafeBytes { try txn.put($0, forKey: key, in: sessions, overwrite: overwrite) }
        }
        let entry = try bytes.withUnsafeBytes { try indexEntry(id, SessionRecordView($0)) }
        let index = sessionIndex
        txn.afterCommit { index.put(entry, for: id) }
    }

    /// Ends a session: removes it and its index entry, and revokes its refresh family so the
    /// refresh token cannot bring it back. Returns `false` when there was no such session.
    @discardableResult
    func endSession(_ id: SessionID, in txn: WriteTransaction) throws -> Bool {
        guard let record = try sessionRecord(id, in: txn) else { return false }
        try removeSession(id, userID: record.userID, in: txn)
        if let familyID = record.familyID { try revokeFamily(familyID, in: txn) }
        return true
    }

    /// Ends every session of a user but `except`. Returns how many ended.
    @discardableResult
    func endSessions(ofUser userID: UInt64, except: SessionID?, in txn: WriteTransaction) throws -> Int {
        var count = 0
        for id in try sessionIDs(ofUser: userID, in: txn) where id != except {
            if try endSession(id, in: txn) { count += 1 }
        }
        return count
    }

    /// Ends every session and every refresh family of a user but the session `except` (and its
    /// family): the user's credentials epoch moves on, so a family whose access session already
    /// expired and was swept is revoked too, at its next REFRESH. Returns how many live sessions
    /// ended. `user` is the stored record; the caller writes it (``putUser(_:replacing:in:)``).
    @discardableResult
    func revokeEverySession(of user: inout UserRecord, except: SessionID?, in txn: WriteTransaction) throws -> Int {
        user.credentialsEpoch &+= 1
        let ended = try endSessions(ofUser: user.id, except: except, in: txn)
        if let except, let kept = try sessionRecord(except, in: txn), let familyID = kept.familyID,
            var family = try refreshFamily(familyID, in: txn), family.state == .active
        {
            family.credentialsEpoch = user.credentialsEpoch
            try txn.put(family.encoded(), forKey: familyID.bytes, in: refreshFamilies)
        }
        return ended
    }

    /// Ends every credential of a user that a password change, a reset or "log out everywhere"
    /// must end: every session but `except` (``revokeEverySession(of:except:in:)``) and every
    /// API key, whoever made it (a key made with a stolen session would otherwise outlive the
    /// password that ended the session). Returns how many live ones ended.
    @discardableResult
    func revokeEveryCredential(
        of user: inout UserRecord, exceptSession except: SessionID?, at now: Timestamp, in txn: WriteTransaction
    ) throws -> (sessions: Int, apiKeys: Int) {
        let sessions = try revokeEverySession(of: &user, except: except, in: txn)
        return (sessions, try revokeEveryAPIKey(ofUser: user.id, at: now, in: txn))
    }

    /// Ends the oldest sessions of a user until at most `keeping` remain.
    func evictOldestSessions(ofUser userID: UInt64, keeping: Int, in txn: WriteTransaction) throws {
        let ids = try sessionIDs(ofUser: userID, in: txn)
        guard ids.count > keeping else { return }
        let byAge = try ids.compactMap { id in try sessionRecord(id, in: txn).map { (id, $0.createdAt) } }.sorted { $0.1 < $1.1 }
        for (id, _) in byAge.prefix(byAge.count - keeping) { try endSession(id, in: txn) }
    }

    /// Removes a session and its index entry and leaves its refresh family alone: for expiry,
    /// and for a refresh that replaces the session with its successor.
    func removeSession(_ id: SessionID, userID: UInt64, in txn: WriteTransaction) throws {
        try txn.delete(id.bytes, in: sessions)
        try txn.delete(Self.userSessionKey(userID, id), in: userSessions)
        let index = sessionIndex
        txn.afterCommit { index.remove(id) }
    }

    // MARK: Refresh families

    /// Opens a refresh family with its first refresh token.
    func insertRefreshFamily(
        _ familyID: SessionID, _ family: RefreshFamily, firstToken id: SessionID, _ token: RefreshRecord,
        in txn: WriteTransaction
    ) throws {
        try txn.put(token.encoded(), forKey: id.bytes, in: refreshTokens, overwrite: false)
        try txn.put(family.encoded(), forKey: familyID.bytes, in: refreshFamilies, overwrite: false)
    }

    /// Rotates a family: `retired` replaces the presented token's record, `successor` is the
    /// family's new current token.
    func rotateRefreshFamily(
        _ familyID: SessionID, _ family: RefreshFamily, retiring oldID: SessionID, _ retired: RefreshRecord,
        successor newID: SessionID, _ successor: RefreshRecord, in txn: WriteTransaction
    ) throws {
        try txn.put(successor.encoded(), forKey: newID.bytes, in: refreshTokens, overwrite: false)
        try txn.put(retired.encoded(), forKey: oldID.bytes, in: refreshTokens)
        try txn.put(family.encoded(), forKey: familyID.bytes, in: refreshFamilies)
        if !retired.graceBox.isEmpty { try txn.put([], forKey: Self.graceBoxKey(retiredAt: retired.retiredAt, oldID), in: graceBoxes) }
    }

    /// The `grace_boxes` key of a token retired at `retiredAt`: in time order, so the sweeper
    /// reads only the boxes that are due.
    static func graceBoxKey(retiredAt: Timestamp, _ id: SessionID) -> [UInt8] {
        key(UInt64(bitPattern: retiredAt)) + id.bytes
    }

    /// Wipes the grace boxes of tokens retired at or before `retiredBy`, at most `limit`, in
    /// time order; returns how many boxes were wiped. A token that is gone (expired, its user
    /// deleted) only loses its index entry.
    func wipeGraceBoxes(retiredBy: Timestamp, limit: Int, in txn: WriteTransaction) throws -> Int {
        var due: [[UInt8]] = []
        try txn.forEach(in: graceBoxes) { key, _ in
            guard due.count < limit, key.count == 24,
                Int64(bitPattern: UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))) <= retiredBy
            else { return false }
            due.append(Array(key))
            return true
        }
        var wiped = 0
        for key in due {
            if let id = SessionID(bytes: key[8...]), let record = try refreshRecord(id, in: txn), !record.graceBox.isEmpty {
                try wipeGraceBox(id, record, in: txn)
                wiped += 1
            }
            try txn.delete(key, in: graceBoxes)
        }
        return wiped
    }

    /// Marks a refresh family revoked and ends its current session.
    func revokeFamily(_ id: SessionID, in txn: WriteTransaction) throws {
        guard var family = try refreshFamily(id, in: txn), family.state == .active else { return }
        family.state = .revoked
        try txn.put(family.encoded(), forKey: id.bytes, in: refreshFamilies)
        if let current = try refreshRecord(family.current, in: txn) {
            try endSession(current.sessionID, in: txn)
        }
    }

    /// Removes an expired refresh token and remembers it as expired; when it was its family's
    /// current token the family ends with it.
    func removeExpiredRefreshToken(_ id: SessionID, in txn: WriteTransaction) throws {
        if let record = try refreshRecord(id, in: txn) {
            if let family = try refreshFamily(record.familyID, in: txn), family.current == id {
                try txn.delete(record.familyID.bytes, in: refreshFamilies)
            }
            let memory = ExpiredTokenRecord(expiredAt: record.expiresAt, keyID: record.keyID, digest: record.digest)
            try txn.put(memory.encoded(), forKey: Self.expiredTokenKey(.refresh, id), in: expiredTokens)
        }
        try txn.delete(id.bytes, in: refreshTokens)
    }

    /// Wipes the grace box of a retired refresh token whose grace window has ended: a copy of
    /// the data directory must not yield the successor's tokens.
    func wipeGraceBox(_ id: SessionID, _ record: RefreshRecord, in txn: WriteTransaction) throws {
        var wiped = record
        wiped.graceBox = []
        try txn.put(wiped.encoded(), forKey: id.bytes, in: refreshTokens)
    }
}
