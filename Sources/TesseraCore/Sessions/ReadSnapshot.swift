import LMDBKit
import SodiumKit

/// A consistent read view of the store; verify runs here.
public struct ReadSnapshot {
    @usableFromInline let txn: ReadTransaction
    @usableFromInline let store: TesseraStore

    @usableFromInline
    init(txn: ReadTransaction, store: TesseraStore) {
        self.txn = txn
        self.store = store
    }

    /// Checks `token` (its 68-byte text form) and returns the session it opens, viewed in
    /// place: valid until the snapshot ends.
    ///
    /// The cost is one Base64 decode, one keyed BLAKE2b of the secret, one LMDB lookup by
    /// session id, and a constant-time comparison of digests. Nothing is allocated.
    public func verify(token text: UnsafeRawBufferPointer, now: Timestamp) throws(AuthError) -> VerifiedSession {
        guard let token = SessionToken.parse(text), let key = store.keyRing.key(id: token.keyID) else { throw .tokenInvalid }
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
        guard let view else { throw .tokenInvalid }
        let matches = withUnsafeBytes(of: &digest) { ConstantTime.equals($0, view.digest) }
        guard matches, view.keyID == token.keyID else { throw .tokenInvalid }
        guard view.expiresAt > now else { throw .tokenExpired }
        return VerifiedSession(userID: view.userID, sessionID: token.sessionID, expiresAt: view.expiresAt, rawRoles: view.rawRoles)
    }
}

/// A verified session, viewed in place in the snapshot. Valid only while the snapshot is open.
public struct VerifiedSession {
    public let userID: UInt64
    public let sessionID: SessionID
    public let expiresAt: Timestamp
    let rawRoles: UnsafeRawBufferPointer

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

    init(_ session: VerifiedSession) {
        userID = session.userID
        sessionID = session.sessionID
        expiresAt = session.expiresAt
        var roles: [String] = []
        session.forEachRole { roles.append(String(decoding: $0, as: UTF8.self)) }
        self.roles = roles
    }
}
