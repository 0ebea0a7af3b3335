import LMDBKit
import SodiumKit

/// A consistent read view of the store; verify runs here.
public struct ReadSnapshot {
    @usableFromInline let txn: ReadTransaction
    @usableFromInline let store: TesseraStore
    /// How stale a session's last-seen time may get before a verify asks for it to be written.
    @usableFromInline let touchInterval: Int64
    /// Borrowed from ``Verification``, which outlives every snapshot (no reference counting on
    /// the hot path).
    @usableFromInline unowned(unsafe) let jwtRules: JWTRules

    @usableFromInline
    init(txn: ReadTransaction, store: TesseraStore, touchInterval: Int64, jwtRules: JWTRules) {
        self.txn = txn
        self.store = store
        self.touchInterval = touchInterval
        self.jwtRules = jwtRules
    }

    /// Checks `token` (its 68-byte text form) and returns the session it opens, viewed in
    /// place: valid until the snapshot ends.
    ///
    /// The cost is one Base64 decode, one keyed BLAKE2b of the secret, one LMDB lookup by
    /// session id, and a constant-time comparison of digests. Nothing is allocated.
    public func verify(token text: UnsafeRawBufferPointer, now: Timestamp) throws(AuthError) -> VerifiedSession {
        if text.count != SessionToken.textLength {
            if APIKeyCredential.matches(text) { return try verifyAPIKey(text, now: now) }
            if AccessJWT.looksLikeJWT(text) { return try verifyJWT(text, now: now) }
        }
        // The ring in use (one atomic load; a rotation publishes a new ring, never changes one).
        guard let token = SessionToken.parse(text), let key = store.keys.key(id: token.keyID) else { throw .tokenInvalid }
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let view: SessionRecordView?
        do {
            view = try withUnsafeMutableBytes(of: &digest) { digestBytes in
                token.digest(with: key, into: digestBytes)
                return try token.sessionID.withUnsafeBytes { id in
                    try txn.withValue(forKey: id, in: store.sessions) { try SessionRecordView($0) }
                }
            }
        } catch {
            throw .internal("session record unreadable")
        }
        guard let view else { throw withUnsafeBytes(of: &digest) { expiredOrInvalid(token, digest: $0) } }
        let matches = withUnsafeBytes(of: &digest) { ConstantTime.equals32($0, view.digest) }
        guard matches, view.keyID == token.keyID else { throw .tokenInvalid }
        guard view.deadline > now else { throw .tokenExpired }
        return VerifiedSession(
            userID: view.userID, sessionID: token.sessionID, expiresAt: view.expiresAt,
            touchDue: SessionRecord.touchInterval(configured: touchInterval, idleSeconds: view.idleSeconds)
                .map { now - view.lastSeen >= $0 } ?? false, rawRoles: view.rawRoles)
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
        guard view.revokedAt == 0 else { throw .tokenRevoked }
        guard view.expiresAt == 0 || view.expiresAt > now else { throw .tokenExpired }
        return VerifiedSession(
            userID: view.userID, sessionID: token.sessionID, expiresAt: view.expiresAt, touchDue: now - view.lastUsedAt >= touchInterval,
            rawRoles: view.rawPermissions, apiKeyName: view.name)
    }

    /// The answer for a token with no session: `token-expired` when the sweeper removed its
    /// session for expiry (and remembers it), `token-invalid` otherwise.
    @usableFromInline
    func expiredOrInvalid(_ token: SessionToken, digest: UnsafeRawBufferPointer) -> AuthError {
        guard let expired = try? store.expiredToken(.session, token.sessionID, in: txn) else { return .tokenInvalid }
        return expired.matches(keyID: token.keyID, digest: digest) ? .tokenExpired : .tokenInvalid
    }

    /// A JWT this server signed: its signature (with a signing key still in the ring), its
    /// expiry, then the session it names, which must still be live (a logout or a revocation
    /// ends the JWT too). Roles come from the session, as for a session token.
    @usableFromInline
    func verifyJWT(_ text: UnsafeRawBufferPointer, now: Timestamp) throws(AuthError) -> VerifiedSession {
        let claims = try AccessJWT.verify(
            String(decoding: text, as: UTF8.self), ring: store.keyRing, configuration: jwtRules.configuration, now: now)
        let view: SessionRecordView?
        do {
            view = try claims.sessionID.withUnsafeBytes { id in try txn.withValue(forKey: id, in: store.sessions) { try SessionRecordView($0) } }
        } catch {
            throw .internal("session record unreadable")
        }
        guard let view, view.userID == claims.userID else { throw .tokenRevoked }
        guard view.deadline > now else { throw .tokenExpired }
        return VerifiedSession(
            userID: view.userID, sessionID: claims.sessionID, expiresAt: min(view.expiresAt, claims.expiresAt),
            touchDue: SessionRecord.touchInterval(configured: touchInterval, idleSeconds: view.idleSeconds)
                .map { now - view.lastSeen >= $0 } ?? false, rawRoles: view.rawRoles)
    }

    /// The profile of user `id` in this snapshot.
    public func user(id: UInt64) throws -> UserProfile? {
        try store.user(id: id, in: txn)?.profile
    }
}

/// A verified session (or API key), viewed in place in the snapshot. Valid only while the
/// snapshot is open.
public struct VerifiedSession {
    public let userID: UInt64
    /// The session's id, or the API key's.
    public let sessionID: SessionID
    /// The absolute expiry; 0 for an API key that never expires.
    public let expiresAt: Timestamp
    /// The session has an idle timeout and its stored last-seen time is older than the touch
    /// interval (or the API key's last use is): pass its id to ``Verification/touch(_:apiKeys:at:)``
    /// (batched; not every verify writes).
    public let touchDue: Bool
    /// The session's roles, or the API key's permissions.
    let rawRoles: UnsafeRawBufferPointer
    /// The API key's name (UTF-8) when the credential was an API key; `nil` for a session.
    public let apiKeyName: UnsafeRawBufferPointer?

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
    public var isAPIKey: Bool { apiKeyName != nil }

    /// Calls `body` with each role's UTF-8 bytes, without allocating.
    @inline(__always)
    public func forEachRole(_ body: (UnsafeRawBufferPointer) -> Void) {
        forEachShortString(rawRoles, body)
    }
}

/// A verified session copied out of its snapshot.
public struct VerifiedSessionInfo: Sendable, Equatable {
    public var userID: UInt64
    public var sessionID: SessionID
    public var expiresAt: Timestamp
    public var roles: [String]
    /// The API key's name when the credential was an API key.
    public var apiKeyName: String?
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
