import LMDBKit
import SodiumKit
import TesseraModel

extension Sessions {
    /// Exchanges a refresh token for a new access token and a new refresh token (RFC 9700
    /// §4.14.2 rotation), ending the previous access session.
    ///
    /// - The old refresh token is retired, not deleted: presented again within the grace window
    ///   it returns the same pair (a retry, two tabs); after the window it is theft, and the
    ///   whole family is revoked (`refresh-reused`).
    /// - All of it happens in one write transaction on the commit thread, so two concurrent
    ///   refreshes of one token produce exactly one new pair.
    package func refresh(_ text: String, clientIP: String? = nil, userAgent: String? = nil, withJWT: Bool = false) async throws -> LoginResult {
        try Validation.sessionMetadata(clientIP: clientIP, userAgent: userAgent)
        let ring = store.keyRing
        guard let presented = SessionToken.parse(text, kind: SessionToken.refreshVersion), let key = ring.key(id: presented.keyID) else {
            throw AuthError.tokenInvalid
        }
        let digest = presented.digest(with: key)
        let graceKey = presented.graceKey(with: key)
        let active = ring.active
        let store = self.store
        let now = clock.now()
        let configuration = self.configuration
        let idle = effectiveIdleTimeout(nil)
        // Everything random or cryptographic is made here, before the write: the writer thread
        // is the one thread every durable write waits on, and each getrandom(2) or seal there
        // holds back the whole batch. If the exchange does not happen, they are simply dropped.
        let access = SessionToken.generate(keyID: active.id, now: now)
        let next = SessionToken.generate(keyID: active.id, kind: SessionToken.refreshVersion, now: now)
        let (accessDigest, nextDigest) = (access.digest(with: active), next.digest(with: active))
        let (accessText, nextText) = (access.text, next.text)
        let graceBox = SecretBox.seal(Array((accessText + " " + nextText).utf8), key: graceKey)

        enum Outcome: Sendable { case issued(LoginResult), reused, revoked }
        let outcome: Outcome = try await store.write { txn in
            guard var old = try store.refreshRecord(presented.sessionID, in: txn) else {
                // Swept for expiry: its holder hears token-expired, as before the sweep.
                let expired = try store.expiredToken(.refresh, presented.sessionID, in: txn)
                let known = digest.withUnsafeBytes { expired?.matches(keyID: presented.keyID, digest: $0) ?? false }
                throw known ? AuthError.tokenExpired : AuthError.tokenInvalid
            }
            guard old.keyID == presented.keyID, digest.withUnsafeBytes({ d in old.digest.withUnsafeBytes { ConstantTime.equals(d, $0) } }) else {
                throw AuthError.tokenInvalid
            }
            guard var family = try store.refreshFamily(old.familyID, in: txn) else { throw AuthError.tokenInvalid }
            guard family.state == .active else { return .revoked }
            // A password change, reset, "log out everywhere" or disabling since the family opened.
            guard let owner = try store.user(id: old.userID, in: txn), owner.credentialsEpoch == family.credentialsEpoch else {
                try store.revokeFamily(old.familyID, in: txn)
                return .revoked
            }
            guard old.expiresAt > now else { throw AuthError.tokenExpired }

            if old.state == .retired {
                let grace = Int64(configuration.refreshGraceSeconds) * 1000
                let withinGrace = grace > 0 && now - old.retiredAt <= grace  // 0: no window at all
                if withinGrace, family.current == old.successor, let opened = SecretBox.open(old.graceBox, key: graceKey),
                    let pair = try Self.replay(opened, family: family, store: store, in: txn)
                {
                    return .issued(pair)
                }
                try store.revokeFamily(old.familyID, in: txn)
                return .reused
            }

            // Rotate: a new session and a new refresh token; the old ones end.
            // The owner read above: nothing in this transaction has written it since.
            let user = owner
            guard user.state == .active else { throw AuthError.tokenRevoked }
            let previous = try store.sessionRecord(old.sessionID, in: txn)
            if previous != nil { try store.removeSession(old.sessionID, userID: old.userID, in: txn) }
            // The login's own lifetime and idle timeout, capped by the server's as they are now.
            let configured = configuration.sessionLifetimeSeconds
            let lifetime = Int64(family.sessionLifetimeSeconds == 0 ? configured : min(family.sessionLifetimeSeconds, configured)) * 1000
            let session = SessionRecord(
                userID: user.id, createdAt: now, expiresAt: now + lifetime, keyID: active.id,
                digest: accessDigest, idleSeconds: family.idleSeconds == 0 ? previous?.idleSeconds ?? idle : effectiveIdleTimeout(family.idleSeconds),
                familyID: old.familyID, roles: user.roles,
                clientIP: clientIP ?? previous?.clientIP, userAgent: userAgent ?? previous?.userAgent)
            try store.insertSession(access.sessionID, session, in: txn)
            // The family's refresh lifetime is fixed at login: rotation does not extend it.
            var successor = RefreshRecord(
                userID: user.id, familyID: old.familyID, sessionID: access.sessionID, createdAt: now,
                expiresAt: old.expiresAt, keyID: active.id, digest: nextDigest)
            successor.state = .active
            old.state = .retired
            old.retiredAt = now
            old.successor = next.sessionID
            old.graceBox = graceBox
            family.current = next.sessionID
            try store.rotateRefreshFamily(
                old.familyID, family, retiring: presented.sessionID, old,
                successor: next.sessionID, successor, in: txn)
            return .issued(
                LoginResult(
                    token: accessText, sessionID: access.sessionID, expiresAt: session.expiresAt,
                    user: user.profile, refreshToken: nextText, refreshExpiresAt: successor.expiresAt))
        }
        switch outcome {
        case .issued(var result):
            if withJWT { attachJWT(to: &result, roles: result.user.roles, now: now) }
            return result
        case .reused: throw AuthError.refreshReused
        case .revoked: throw AuthError.tokenRevoked
        }
    }

    /// The pair sealed in a retired token's grace box, when it is still the family's live pair.
    private static func replay(_ opened: [UInt8], family: RefreshFamily, store: TesseraStore, in txn: WriteTransaction) throws -> LoginResult? {
        let parts = String(decoding: opened, as: UTF8.self).split(separator: " ")
        guard parts.count == 2, let access = SessionToken.parse(String(parts[0])),
            let session = try store.sessionRecord(access.sessionID, in: txn),
            let current = try store.refreshRecord(family.current, in: txn),
            let user = try store.user(id: session.userID, in: txn)
        else { return nil }
        return LoginResult(
            token: String(parts[0]), sessionID: access.sessionID, expiresAt: session.expiresAt,
            user: user.profile, refreshToken: String(parts[1]), refreshExpiresAt: current.expiresAt)
    }
}
