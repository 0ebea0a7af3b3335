import LMDBKit
import SodiumKit
import TesseraModel

/// A read view of the store; verify runs here.
///
/// A session token is checked against the in-memory ``SessionIndex`` and needs no LMDB
/// transaction. Everything else (a session the index does not hold yet, an API key, a JWT's
/// session, a user's profile) reads one LMDB snapshot, opened on first use and shared by
/// the rest of the batch.
@_spi(TesseraInternal) public struct ReadSnapshot {
    @usableFromInline let reader: UnsafeMutablePointer<SnapshotReader>
    @usableFromInline let store: TesseraStore
    /// How stale a session's last-seen time may get before a verify asks for it to be written.
    @usableFromInline let touchInterval: Int64
    /// Borrowed from ``Verification``, which outlives every snapshot (no reference counting on
    /// the hot path).
    @usableFromInline unowned(unsafe) let jwtRules: JWTRules

    @usableFromInline
    init(reader: UnsafeMutablePointer<SnapshotReader>, store: TesseraStore, touchInterval: Int64, jwtRules: JWTRules) {
        self.reader = reader
        self.store = store
        self.touchInterval = touchInterval
        self.jwtRules = jwtRules
    }

    /// The LMDB snapshot, opened on first use.
    @usableFromInline
    var txn: ReadTransaction {
        get throws { try reader.pointee.transaction() }
    }

    /// Checks `token` (its 68-byte text form) and returns the session it opens, viewed in
    /// place: valid until the snapshot ends.
    ///
    /// The cost is one Base64 decode, one BLAKE2b of the secret with the token's key, one probe
    /// of the session index, and a constant-time comparison of digests. Nothing is allocated.
    @_spi(TesseraInternal) public func verify(token text: UnsafeRawBufferPointer, now: Timestamp) throws(AuthError) -> VerifiedSession {
        if text.count != SessionToken.textLength {
            if APIKeyCredential.matches(text) { return try verifyAPIKey(text, now: now) }
            if AccessJWT.looksLikeJWT(text) { return try verifyJWT(text, now: now) }
        }
        guard let token = SessionToken.parse(text) else {
            // Not a native token: another system's, when an import brought some (one load).
            if store.holdsImportedTokens { return try verifyImported(text, now: now) }
            throw .tokenInvalid
        }
        // The ring in use (one atomic load; a rotation publishes a new ring, never changes one).
        guard let key = store.keys.key(id: token.keyID) else { throw .tokenInvalid }
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &digest) { token.digest(with: key, into: $0) }
        switch store.sessionIndex.lookup(token.sessionID) {
        case .hit(let session):
            // The index holds the digest's first 128 bits (PROTOCOL.md section 10): compared
            // without branching on where they differ.
            let difference = (session.digest.0 ^ digest.0) | (session.digest.1 ^ digest.1)
            guard difference == 0, session.keyID == token.keyID else { throw .tokenInvalid }
            return try live(
                token.sessionID, userID: session.userID, expiresAt: session.expiresAt, lastSeen: session.lastSeen,
                idleSeconds: session.idleSeconds, rawRoles: session.rawRoles, now: now)
        case .absent:
            throw withUnsafeBytes(of: &digest) { expiredOrInvalid(token, digest: $0) }
        case .unknown:
            return try verifyInStore(token, digest: &digest, now: now)
        }
    }
}

/// The LMDB snapshot of a ``ReadSnapshot``: none until asked for, then one for the rest of
/// the batch.
@usableFromInline
struct SnapshotReader {
    @usableFromInline let environment: Environment
    @usableFromInline var open: ReadTransaction?

    @usableFromInline
    init(environment: Environment) {
        self.environment = environment
    }

    @usableFromInline
    mutating func transaction() throws -> ReadTransaction {
        if let open { return open }
        let txn = try environment.beginRead()
        open = txn
        return txn
    }

    @usableFromInline
    mutating func end() {
        if let open { environment.endRead(open) }
        open = nil
    }
}

extension ReadSnapshot {
    /// An API key (`tsk_…`): the same work as a session token (one keyed BLAKE2b, one LMDB
    /// lookup by key id, a constant-time comparison), then revocation and expiry. The "session"
    /// returned is the key: its id, its expiry (0: none), its permissions as roles, its name.
    @usableFromInline
    func verifyAPIKey(_ text: UnsafeRawBufferPointer, now: Timestamp) throws(AuthError) -> VerifiedSession {
        guard let token = APIKeyCredential.parse(text), let key = store.keys.key(id: token.keyID) else { throw .tokenInvalid }
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let view: APIKeyRecordView?
        do {
            let txn = try self.txn
            view = try withUnsafeMutableBytes(of: &digest) { digestBytes in
                token.digest(with: key, into: digestBytes)
                return try token.sessionID.withUnsafeBytes { id in
                    try txn.withValue(forKey: id, in: store.apiKeys) { try APIKeyRecordView($0) }
                }
            }
        } catch {
            throw .internal("API key record unreadable")
        }
        guard let view else { throw .tokenInvalid }
        let matches = withUnsafeBytes(of: &digest) { ConstantTime.equals32($0, view.digest) }
        guard matches, view.keyID == token.keyID else { throw .tokenInvalid }
        return try liveAPIKey(view, id: token.sessionID, now: now)
    }

    /// An API key whose digest matched: `token-revoked`, `token-expired`, or the verified key.
    @inline(__always)
    func liveAPIKey(_ view: APIKeyRecordView, id: SessionID, now: Timestamp) throws(AuthError) -> VerifiedSession {
        guard view.revokedAt == 0 else { throw .tokenRevoked }
        guard view.expiresAt == 0 || view.expiresAt > now else { throw .tokenExpired }
        return VerifiedSession(
            userID: view.userID, sessionID: id, expiresAt: view.expiresAt, touchDue: now - view.lastUsedAt >= touchInterval,
            rawRoles: view.rawPermissions, apiKeyName: view.name)
    }

    /// A token another system issued, imported as a session or an API key (``ImportedToken``):
    /// one SHA-256 of the text and the id derived from it, then the session index, then (when
    /// the index cannot answer, or for an API key) the records in LMDB, each checked as a
    /// native token's record is, under the key the record names.
    @usableFromInline
    func verifyImported(_ text: UnsafeRawBufferPointer, now: Timestamp) throws(AuthError) -> VerifiedSession {
        let token = ImportedToken(text: text)
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let lookup = store.sessionIndex.lookup(token.id)
        if case .hit(let session) = lookup {
            guard let key = store.keys.key(id: session.keyID) else { throw .tokenInvalid }
            withUnsafeMutableBytes(of: &digest) { token.digest(with: key, into: $0) }
            let difference = (session.digest.0 ^ digest.0) | (session.digest.1 ^ digest.1)
            guard difference == 0 else { throw .tokenInvalid }
            return try live(
                token.id, userID: session.userID, expiresAt: session.expiresAt, lastSeen: session.lastSeen,
                idleSeconds: session.idleSeconds, rawRoles: session.rawRoles, now: now)
        }
        let txn: ReadTransaction
        do { txn = try self.txn } catch { throw .internal("snapshot unavailable") }
        let keys = store.keys
        /// Whether `stored`, made under key `keyID`, is the token's digest (constant time).
        func matches(_ stored: UnsafeRawBufferPointer, keyID: UInt16) -> Bool {
            guard let key = keys.key(id: keyID) else { return false }
            return withUnsafeMutableBytes(of: &digest) { bytes in
                token.digest(with: key, into: bytes)
                return ConstantTime.equals32(UnsafeRawBufferPointer(bytes), stored)
            }
        }
        do {
            if case .unknown = lookup,
                let view = try token.id.withUnsafeBytes({ id in try txn.withValue(forKey: id, in: store.sessions) { try SessionRecordView($0) } })
            {
                guard matches(view.digest, keyID: view.keyID) else { throw AuthError.tokenInvalid }
                return try live(
                    token.id, userID: view.userID, expiresAt: view.expiresAt, lastSeen: view.lastSeen, idleSeconds: view.idleSeconds,
                    rawRoles: view.rawRoles, now: now)
            }
            if let view = try token.id.withUnsafeBytes({ id in try txn.withValue(forKey: id, in: store.apiKeys) { try APIKeyRecordView($0) } }) {
                guard matches(view.digest, keyID: view.keyID) else { throw AuthError.tokenInvalid }
                return try liveAPIKey(view, id: token.id, now: now)
            }
            if let expired = try store.expiredToken(.session, token.id, in: txn) {
                throw expired.digest.withUnsafeBytes { matches($0, keyID: expired.keyID) } ? AuthError.tokenExpired : .tokenInvalid
            }
        } catch let error as AuthError {
            throw error
        } catch {
            throw .internal("session record unreadable")
        }
        throw .tokenInvalid
    }

    /// A session token the index cannot answer for (it is still being filled): the session's
    /// record in LMDB.
    @usableFromInline
    func verifyInStore(
        _ token: SessionToken, digest: inout (UInt64, UInt64, UInt64, UInt64), now: Timestamp
    ) throws(AuthError)
        -> VerifiedSession
    {
        let view: SessionRecordView?
        do {
            let txn = try self.txn
            view = try token.sessionID.withUnsafeBytes { id in
                try txn.withValue(forKey: id, in: store.sessions) { try SessionRecordView($0) }
            }
        } catch {
            throw .internal("session record unreadable")
        }
        guard let view else { throw withUnsafeBytes(of: &digest) { expiredOrInvalid(token, digest: $0) } }
        let matches = withUnsafeBytes(of: &digest) { ConstantTime.equals32($0, view.digest) }
        guard matches, view.keyID == token.keyID else { throw .tokenInvalid }
        return try live(
            token.sessionID, userID: view.userID, expiresAt: view.expiresAt, lastSeen: view.lastSeen, idleSeconds: view.idleSeconds,
            rawRoles: view.rawRoles, now: now)
    }

    /// A session whose token matched, from the index or from its record: `token-expired` past
    /// its deadline (absolute or idle), else the verified session, with a touch due when its
    /// last-seen time is older than the touch interval.
    @inline(__always)
    func live(
        _ id: SessionID, userID: UInt64, expiresAt: Timestamp, lastSeen: Timestamp, idleSeconds: UInt32, rawRoles: UnsafeRawBufferPointer,
        now: Timestamp
    ) throws(AuthError) -> VerifiedSession {
        guard SessionRecord.deadline(expiresAt: expiresAt, lastSeen: lastSeen, idleSeconds: idleSeconds) > now else { throw .tokenExpired }
        let touchDue = SessionRecord.touchInterval(configured: touchInterval, idleSeconds: idleSeconds).map { now - lastSeen >= $0 } ?? false
        return VerifiedSession(userID: userID, sessionID: id, expiresAt: expiresAt, touchDue: touchDue, rawRoles: rawRoles)
    }

    /// The answer for a token with no session: `token-expired` when the sweeper removed its
    /// session for expiry (and remembers it), `token-invalid` otherwise.
    @usableFromInline
    func expiredOrInvalid(_ token: SessionToken, digest: UnsafeRawBufferPointer) -> AuthError {
        guard let txn = try? self.txn, let expired = try? store.expiredToken(.session, token.sessionID, in: txn) else { return .tokenInvalid }
        return expired.matches(keyID: token.keyID, digest: digest) ? .tokenExpired : .tokenInvalid
    }

    /// A JWT this server signed: its signature (with a signing key still in the ring), its
    /// expiry, then the session it names, which must still be live (a logout or a revocation
    /// ends the JWT too), its digest key included: retiring the key a session was made under
    /// ends the session for every credential, its JWTs as its token. Roles come from the
    /// session, as for a session token.
    @usableFromInline
    func verifyJWT(_ text: UnsafeRawBufferPointer, now: Timestamp) throws(AuthError) -> VerifiedSession {
        let claims = try AccessJWT.verify(
            String(decoding: text, as: UTF8.self), ring: store.keyRing, configuration: jwtRules.configuration, now: now)
        let view: SessionRecordView?
        do {
            let txn = try self.txn
            view = try claims.sessionID.withUnsafeBytes { id in try txn.withValue(forKey: id, in: store.sessions) { try SessionRecordView($0) } }
        } catch {
            throw .internal("session record unreadable")
        }
        guard let view, view.userID == claims.userID, store.keys.key(id: view.keyID) != nil else { throw .tokenRevoked }
        guard view.deadline > now else { throw .tokenExpired }
        return VerifiedSession(
            userID: view.userID, sessionID: claims.sessionID, expiresAt: min(view.expiresAt, claims.expiresAt),
            touchDue: SessionRecord.touchInterval(configured: touchInterval, idleSeconds: view.idleSeconds)
                .map { now - view.lastSeen >= $0 } ?? false, rawRoles: view.rawRoles)
    }

    /// The profile of user `id` in this snapshot.
    package func user(id: UInt64) throws -> UserProfile? {
        try store.user(id: id, in: try txn)?.profile
    }

    /// User `id` in this snapshot, for a caller that keeps what it derives from a user: the
    /// stored record's bytes (valid inside `body` only; equal bytes are an equal user) and a
    /// way to decode its profile when they are new to the caller. `nil` when there is no such
    /// user.
    package func user<R>(id: UInt64, _ body: (_ record: UnsafeRawBufferPointer, _ profile: () throws -> UserProfile) throws -> R) throws -> R? {
        try store.withUserRecord(id: id, in: try txn) { record in try body(record) { try UserRecord(decoding: record).profile } }
    }

    /// The API keys of user `id` in this snapshot as `key` may see them (only itself; all of
    /// them for a session), oldest first, never a secret.
    package func apiKeys(ofUser id: UInt64, seenBy key: APIKeyID?) throws -> [APIKeyInfo] {
        try store.apiKeys(ofUser: id, seenBy: key, in: try txn)
    }
}

/// A verified session (or API key), viewed in place in the snapshot or the session index.
/// Valid only while the snapshot is open.
@_spi(TesseraInternal) public struct VerifiedSession {
    @_spi(TesseraInternal) public let userID: UInt64
    /// The session's id, or the API key's.
    @_spi(TesseraInternal) public let sessionID: SessionID
    /// The absolute expiry; 0 for an API key that never expires.
    @_spi(TesseraInternal) public let expiresAt: Timestamp
    /// The session has an idle timeout and its stored last-seen time is older than the touch
    /// interval (or the API key's last use is): pass its id to ``Verification/touch(_:apiKeys:at:)``
    /// (batched; not every verify writes).
    package let touchDue: Bool
    /// The session's roles, or the API key's permissions.
    let rawRoles: UnsafeRawBufferPointer
    /// The API key's name (UTF-8) when the credential was an API key; `nil` for a session.
    package let apiKeyName: UnsafeRawBufferPointer?

    @usableFromInline
    init(
        userID: UInt64, sessionID: SessionID, expiresAt: Timestamp, touchDue: Bool, rawRoles: UnsafeRawBufferPointer,
        apiKeyName: UnsafeRawBufferPointer? = nil
    ) {
        self.userID = userID
        self.sessionID = sessionID
        self.expiresAt = expiresAt
        self.touchDue = touchDue
        self.rawRoles = rawRoles
        self.apiKeyName = apiKeyName
    }

    /// Whether the credential was an API key.
    @_spi(TesseraInternal) public var isAPIKey: Bool { apiKeyName != nil }

    /// Calls `body` with each role's UTF-8 bytes, without allocating.
    @inline(__always)
    @_spi(TesseraInternal) public func forEachRole(_ body: (UnsafeRawBufferPointer) -> Void) {
        forEachShortString(rawRoles, body)
    }
}

/// A verified session copied out of its snapshot.
package struct VerifiedSessionInfo: Sendable, Equatable {
    package var userID: UInt64
    package var sessionID: SessionID
    package var expiresAt: Timestamp
    package var roles: [String]
    /// The API key's name when the credential was an API key.
    package var apiKeyName: String?
    var touchDue: Bool

    init(_ session: VerifiedSession) {
        userID = session.userID
        sessionID = session.sessionID
        expiresAt = session.expiresAt
        touchDue = session.touchDue
        apiKeyName = session.apiKeyName.map { String(decoding: $0, as: UTF8.self) }
        var roles: [String] = []
        session.forEachRole { roles.append(String(decoding: $0, as: UTF8.self)) }
        self.roles = roles
    }
}
