import LMDBKit
import Logging
import SodiumKit
import TesseraModel

/// Sessions: login, logout, revocation and listing. Refresh is in `Sessions+Refresh.swift`.
package struct Sessions: Sendable {
    let store: TesseraStore
    let configuration: AuthConfiguration
    let passwords: PasswordCheck
    let accounts: Accounts
    let twoFactor: TwoFactor
    let clock: any Clock
    let logger: Logger

    // MARK: Login

    /// Checks a password and opens a session with its refresh family.
    ///
    /// The policy, in order: a locked identifier (known or unknown) answers `locked` without a
    /// check, and an identifier whose account is locked answers `bad-credentials` without one,
    /// each after a check's time (``PasswordCheck/attempt(_:password:against:succeed:)`` has the
    /// lockout's rules); an unknown user and a wrong password both cost one argon2id verify,
    /// record a failure durably and answer `bad-credentials`; only after a correct password is
    /// the account's state revealed
    /// (`account-not-validated`, `inactive-account`), then whether a second factor is needed
    /// (`2fa-required`; a wrong or used code is `2fa-invalid` and counts as a failure, see
    /// ``TwoFactor``). A success clears the failure count and,
    /// when the configured argon2id parameters changed since the hash was made, stores a fresh
    /// hash.
    package func login(_ attempt: LoginAttempt) async throws -> LoginResult {
        try Validation.loginIdentifier(attempt.identifier)
        try Validation.password(attempt.password.count, minimum: 1)
        try Validation.sessionMetadata(clientIP: attempt.clientIP, userAgent: attempt.userAgent)
        let store = self.store
        let found = try store.read { txn in try store.user(identifier: attempt.identifier, in: txn) }
        let keys = ThrottleKeys.login(identifier: attempt.identifier, userID: found?.id)
        let storedHash = found?.passwordHash
        do {
            return try await passwords.attempt(
                keys, from: .login(clientIP: attempt.clientIP), password: attempt.password, as: attempt.passwordForm, against: storedHash
            ) {
                outcome, turn in
                // A dummy hash never matches, so a user was found.
                guard let user = found else { throw AuthError.badCredentials }
                return try await open(attempt, for: user, storedHash: storedHash, outcome: outcome, turn: turn)
            }
        } catch let error as AuthError {
            logRefusal(error, user: found?.id, clientIP: attempt.clientIP, keys: keys)
            throw error
        }
    }

    /// A refused login leaves a line at the default level (`notice`): the user's id (`none` for
    /// an unknown identifier, whose text is never logged), the client's address as the web
    /// process gave it, and the lock the identifier or the account is under after a failure.
    /// The log handler rate-limits each message.
    private func logRefusal(_ error: AuthError, user: UInt64?, clientIP: String?, keys: ThrottleKeys) {
        var metadata: Logger.Metadata = ["user.id": "\(user.map(String.init) ?? "none")", "client.ip": "\(clientIP ?? "-")"]
        switch error {
        case .badCredentials, .twoFactorInvalid:
            let message: Logger.Message = error == .badCredentials ? "login refused: bad credentials" : "login refused: second factor invalid"
            let (store, policy, now) = (self.store, configuration.lockout, clock.now())
            let entries = [("identifier", keys.lock)] + (keys.account.map { [("account", $0)] } ?? [])
            let locked = entries.lazy.compactMap { entry, key -> (String, ThrottleState, Int64)? in
                guard let state = try? store.read({ try store.throttleState(key, in: $0) }), state.lockedUntil > now,
                    let delay = policy.delay(afterFailures: state.failures)
                else { return nil }
                return (entry, state, delay)
            }.first
            if let (entry, state, delay) = locked {
                metadata["lock.entry"] = "\(entry)"
                metadata["throttle.failures"] = "\(state.failures)"
                metadata["lock.seconds"] = "\(delay / 1000)"
                logger.notice("\(message); locked", metadata: metadata)
            } else {
                logger.notice(message, metadata: metadata)
            }
        case .locked(let retryAfterSeconds):
            metadata["retry_after_seconds"] = "\(retryAfterSeconds)"
            logger.notice("login refused: locked", metadata: metadata)
        default:
            return
        }
    }

    /// The second half of a login, once the password was right: the account's state, then the
    /// session, its refresh family, the cleared throttle and the last login in one commit.
    private func open(
        _ attempt: LoginAttempt, for user: UserRecord, storedHash: String?, outcome: PasswordCheck.Outcome, turn: ThrottleTurn
    ) async throws -> LoginResult {
        switch user.state {
        case .active: break
        case .unvalidated: throw AuthError.accountNotValidated
        case .disabled: throw AuthError.inactiveAccount
        }

        let now = clock.now()
        let secondFactor: TwoFactor.Use
        do {
            secondFactor = try twoFactor.check(attempt.secondFactor, for: user, at: now)
        } catch AuthError.twoFactorInvalid {
            try await passwords.recordFailure(turn.keys)
            throw AuthError.twoFactorInvalid
        }
        let lifetime = min(attempt.lifetimeSeconds ?? configuration.sessionLifetimeSeconds, configuration.sessionLifetimeSeconds)
        guard lifetime > 0 else { throw AuthError.invalidArgument("session lifetime must be at least one second") }
        let key = store.keyRing.active
        let token = SessionToken.generate(keyID: key.id, now: now)
        let refresh = SessionToken.generate(keyID: key.id, kind: SessionToken.refreshVersion, now: now)
        let familyID = SessionID.random(now: now)
        let idle = effectiveIdleTimeout(attempt.idleTimeoutSeconds)
        let session = SessionRecord(
            userID: user.id, createdAt: now, expiresAt: now + Int64(lifetime) * 1000, keyID: key.id,
            digest: token.digest(with: key), idleSeconds: idle,
            familyID: familyID, roles: user.roles, clientIP: attempt.clientIP, userAgent: attempt.userAgent)
        let refreshRecord = RefreshRecord(
            userID: user.id, familyID: familyID, sessionID: token.sessionID, createdAt: now,
            expiresAt: now + Int64(configuration.refreshLifetimeSeconds) * 1000, keyID: key.id,
            digest: refresh.digest(with: key))
        // What the login asked for outlives its first session: every refresh keeps it.
        let family = RefreshFamily(
            userID: user.id, state: .active, current: refresh.sessionID, createdAt: now, credentialsEpoch: 0,
            sessionLifetimeSeconds: attempt.lifetimeSeconds == nil ? 0 : lifetime, idleSeconds: idle)
        let (cap, twoFactor) = (configuration.maximumSessionsPerUser, self.twoFactor)
        let recoveryCodesLeft = try await store.write { txn in
            // The user may have been deleted or disabled while the password was being checked.
            guard let previous = try store.user(id: user.id, in: txn), previous.state == .active else { throw AuthError.badCredentials }
            var opened = family
            opened.credentialsEpoch = previous.credentialsEpoch
            if cap > 0 { try store.evictOldestSessions(ofUser: user.id, keeping: cap - 1, in: txn) }
            try store.insertSession(token.sessionID, session, in: txn)
            try store.insertRefreshFamily(familyID, opened, firstToken: refresh.sessionID, refreshRecord, in: txn)
            try turn.clearFailures(in: txn, of: store)
            var current = previous
            if let fresh = outcome.rehashed, current.passwordHash == storedHash {
                current.passwordHash = fresh
                current.updatedAt = now
            }
            current.lastLoginAt = now
            try store.putUser(current, replacing: previous, in: txn)
            // The code's step (or the recovery code's removal) commits with the session: a code is
            // accepted once, across a crash too.
            return try twoFactor.record(secondFactor, ofUser: user.id, in: txn)
        }
        logger.debug(
            "session opened",
            metadata: [
                "user.id": "\(user.id)", "session.id": "\(token.sessionID)",
                "password.rehashed": "\(outcome.rehashed != nil)",
            ])
        var profile = user.profile
        profile.lastLoginAt = now
        var result = LoginResult(
            token: token.text, sessionID: token.sessionID, expiresAt: session.expiresAt, user: profile,
            refreshToken: refresh.text, refreshExpiresAt: refreshRecord.expiresAt)
        result.recoveryCodesLeft = recoveryCodesLeft
        if let recoveryCodesLeft {
            logger.notice("login with a recovery code", metadata: ["user.id": "\(user.id)", "recovery_codes.left": "\(recoveryCodesLeft)"])
        }
        if attempt.withJWT { attachJWT(to: &result, roles: user.roles, now: now) }
        return result
    }

    /// Adds a JWT for `result`'s session, signed with the active signing key.
    func attachJWT(to result: inout LoginResult, roles: [String], now: Timestamp) {
        let issued = AccessJWT.issue(
            userID: result.user.id, session: result.sessionID, roles: roles, sessionExpiresAt: result.expiresAt,
            key: store.keyRing.activeSigning, configuration: configuration, now: now)
        result.jwt = issued.text
        result.jwtExpiresAt = issued.expiresAt
    }

    /// A login's idle timeout: what it asked for, never longer than the configured one
    /// (and never "none" when one is configured).
    func effectiveIdleTimeout(_ requested: UInt32?) -> UInt32 {
        let configured = configuration.idleTimeoutSeconds
        guard configured > 0 else { return requested ?? 0 }
        guard let requested, requested > 0 else { return configured }
        return min(requested, configured)
    }

    // MARK: Ending sessions

    /// Ends the session of `token`, with its refresh family. An expired session is removed too;
    /// an unknown or forged token fails with ``AuthError/tokenInvalid``.
    package func logout(token text: String) async throws {
        let store = self.store
        let ring = store.keyRing
        let id: SessionID
        /// The digest the session's record must hold when it was made under key `keyID`.
        let digest: @Sendable (UInt16) -> [UInt8]?
        if let token = SessionToken.parse(text) {
            guard let key = ring.key(id: token.keyID) else { throw AuthError.tokenInvalid }
            let made = token.digest(with: key)
            (id, digest) = (token.sessionID, { $0 == token.keyID ? made : nil })
        } else if store.holdsImportedTokens {
            // Another system's token, imported: its record names the key its digest was made under.
            var text = text
            let token = text.withUTF8 { ImportedToken(text: UnsafeRawBufferPointer($0)) }
            (id, digest) = (token.id, { keyID in ring.key(id: keyID).map(token.digest(with:)) })
        } else {
            throw AuthError.tokenInvalid
        }
        try await store.write { txn in
            guard let record = try store.sessionRecord(id, in: txn), let expected = digest(record.keyID),
                expected.withUnsafeBytes({ d in record.digest.withUnsafeBytes { ConstantTime.equals(d, $0) } })
            else {
                throw AuthError.tokenInvalid
            }
            try store.endSession(id, in: txn)
        }
    }

    /// Ends one session by its id, with its refresh family. With `owner`, only a session of
    /// that user: another user's session is `notFound`, as a session that does not exist.
    package func revokeSession(_ id: SessionID, ofUser owner: UInt64? = nil) async throws {
        let store = self.store
        try await store.write { txn in
            if let owner, try store.sessionRecord(id, in: txn)?.userID != owner { throw AuthError.notFound("session") }
            guard try store.endSession(id, in: txn) else { throw AuthError.notFound("session") }
        }
    }

    /// Ends every session of a user, or every one but `except`, with their refresh families,
    /// and every API key of the user. Returns how many live ones ended.
    package func revokeAllSessions(_ lookup: UserLookup, except: SessionID? = nil) async throws -> (sessions: Int, apiKeys: Int) {
        let (store, now) = (self.store, clock.now())
        return try await store.write { txn in
            guard let previous = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            var user = previous
            let ended = try store.revokeEveryCredential(of: &user, exceptSession: except, at: now, in: txn)
            try store.putUser(user, replacing: previous, in: txn)
            return ended
        }
    }

    // MARK: Listing

    /// A page of a user's sessions (live and expired but not yet removed) in session id order:
    /// at most `limit` after the session `after`, and the id to continue after when the page is
    /// full.
    package func list(of lookup: UserLookup, after: SessionID? = nil, limit: Int) throws -> (sessions: [SessionSummary], next: SessionID?) {
        try store.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            let ids = try store.sessionIDs(ofUser: user.id, after: after, limit: limit, in: txn)
            let page = try ids.compactMap { id in
                try store.sessionRecord(id, in: txn).map {
                    SessionSummary(id: id, createdAt: $0.createdAt, expiresAt: $0.expiresAt, clientIP: $0.clientIP, userAgent: $0.userAgent)
                }
            }
            return (page, ids.count == limit ? ids.last : nil)
        }
    }
}
