import LMDBKit
import SodiumKit

/// A consistent read view of the store; verify runs here.
public struct ReadSnapshot {
    let txn: ReadTransaction
    let store: TesseraStore

    /// Checks `token` (its 68-byte text form) and calls `body` with the session it opens.
    ///
    /// The cost is one keyed BLAKE2b of the secret, one LMDB lookup by session id, and a
    /// constant-time comparison of digests. Nothing is allocated.
    @inline(__always)
    public func verify<R>(token text: UnsafeRawBufferPointer, now: Timestamp, _ body: (VerifiedSession) -> R) throws(AuthError) -> R {
        guard let token = SessionToken.parse(text), let key = store.keyRing.key(id: token.keyID) else { throw .tokenInvalid }
        var digest = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return try withUnsafeMutableBytes(of: &digest) { digestBytes throws(AuthError) -> R in
            token.digest(with: key, into: digestBytes)
            let outcome: Result<R, AuthError>?
            do {
                outcome = try token.sessionID.withUnsafeBytes { id in
                    try txn.withValue(forKey: id, in: store.sessions) { bytes -> Result<R, AuthError> in
                        let view = try SessionRecordView(bytes)
                        guard view.keyID == token.keyID, ConstantTime.equals(UnsafeRawBufferPointer(digestBytes), view.digest) else {
                            return .failure(.tokenInvalid)
                        }
                        guard view.expiresAt > now else { return .failure(.tokenExpired) }
                        return .success(body(VerifiedSession(
                            userID: view.userID, sessionID: token.sessionID, expiresAt: view.expiresAt, rawRoles: view.rawRoles)))
                    }
                }
            } catch {
                throw .internal("session record unreadable")
            }
            guard let outcome else { throw .tokenInvalid }
            return try outcome.get()
        }
    }
}

/// A verified session, viewed in place in the snapshot. Valid only inside the `verify` closure.
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
