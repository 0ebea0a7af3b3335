import LMDBKit
import Logging
import SodiumKit
import Synchronization

/// The domain: users, passwords, sessions. Knows nothing of sockets or frames.
///
/// Fast operations (``withSnapshot(_:)`` + ``ReadSnapshot/verify(token:now:_:)``, ``user(_:)``)
/// run on the caller's thread against an LMDB snapshot. Slow ones go elsewhere: argon2id to the
/// ``HashingPool``, every write to the ``CommitQueue``; their `async` methods return once the
/// write is durable.
public final class AuthService: Sendable {
    public let store: TesseraStore
    public let configuration: AuthConfiguration
    public let clock: any Clock
    let hashingPool: HashingPool
    let commitQueue: CommitQueue
    private let dummyHash = Mutex<String?>(nil)
    let logger: Logger
    let sweepCursor = SweepCursor()

    public init(store: TesseraStore, configuration: AuthConfiguration, clock: any Clock = SystemClock(), logger: Logger = Logger(label: "tessera.auth")) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        hashingPool = HashingPool(threads: configuration.hashingThreads, queueLimit: configuration.hashingQueueLimit)
        commitQueue = CommitQueue(environment: store.environment)
    }

    /// Stops taking work, finishes queued hashes and writes, and closes the store.
    public func shutdown() {
        hashingPool.shutdown()
        commitQueue.shutdown()
        store.close()
    }

    // MARK: Users

    /// Creates a user. The password is hashed on the hashing pool, then the user is committed.
    public func createUser(_ request: NewUser) async throws -> UserProfile {
        try await register(request).user
    }

    /// Creates a user and, for an account created unvalidated, the code VALIDATE takes.
    public func register(_ request: NewUser) async throws -> (user: UserProfile, validationCode: String?) {
        try Validation.username(request.username)
        if let email = request.email { try Validation.email(email) }
        if let name = request.displayName { try Validation.displayName(name) }
        try Validation.roles(request.roles)
        try Validation.profile(request.profile)
        try Validation.password(request.password.count, minimum: configuration.minimumPasswordLength)
        let hasher = configuration.passwordHasher
        let password = request.password
        let phone = request.profile.phone.flatMap { $0.isEmpty ? nil : $0 }
        // Fail fast on a taken name before spending a hash on it; the commit checks again.
        try store.environment.read { txn in try checkUnique(username: request.username, email: request.email, phone: phone, in: txn) }
        let hash = try await hashingPool.run { try hasher.hash(password) }
        let now = clock.now()
        let store = self.store
        let code = request.unvalidated ? ValidationCode.generate(key: store.keyRing.active) : nil
        let profile = try await commit { txn -> UserProfile in
            try self.checkUnique(username: request.username, email: request.email, phone: phone, in: txn)
            let id = try Self.nextUserID(store: store, in: txn)
            var record = UserRecord(id: id, createdAt: now, updatedAt: now, state: request.unvalidated ? .unvalidated : .active,
                                    passwordHash: hash, username: request.username, email: request.email,
                                    displayName: request.displayName, roles: request.roles)
            record.apply(request.profile)
            record.phone = phone
            if let code {
                record.validationDigest = code.digest
                try txn.put(TesseraStore.key(id), forKey: code.digest, in: store.validationCodes)
            }
            try txn.put(record.encoded(), forKey: TesseraStore.key(id), in: store.users, overwrite: false)
            try txn.put(TesseraStore.key(id), forKey: TesseraStore.normalized(request.username), in: store.usernames, overwrite: false)
            if let email = request.email {
                try txn.put(TesseraStore.key(id), forKey: TesseraStore.normalized(email), in: store.emails, overwrite: false)
            }
            if let phone { try txn.put(TesseraStore.key(id), forKey: TesseraStore.normalized(phone), in: store.phones, overwrite: false) }
            return record.profile
        }
        logger.info("user created", metadata: ["user.id": "\(profile.id)"])
        return (profile, code?.text)
    }

    func checkUnique(username: String?, email: String?, phone: String?, except: UInt64? = nil, in txn: some ReadableTransaction) throws {
        if let username, let id = try store.userID(index: store.usernames, name: username, in: txn), id != except {
            throw AuthError.conflict("username is already taken")
        }
        if let email, let id = try store.userID(index: store.emails, name: email, in: txn), id != except {
            throw AuthError.conflict("email is already registered")
        }
        if let phone, let id = try store.userID(index: store.phones, name: phone, in: txn), id != except {
            throw AuthError.conflict("phone is already registered")
        }
    }

    private static func nextUserID(store: TesseraStore, in txn: WriteTransaction) throws -> UInt64 {
        let current = try txn.value(forKey: TesseraStore.nextUserIDKey, in: store.meta)
            .flatMap { $0.count == 8 ? $0.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) } : nil } ?? 1
        try txn.put(TesseraStore.key(current + 1), forKey: TesseraStore.nextUserIDKey, in: store.meta)
        return current
    }

    /// Reads a user.
    public func user(_ lookup: UserLookup) throws -> UserProfile {
        try store.environment.read { txn in
            guard let record = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            var profile = record.profile
            profile.failedLogins = try store.throttleState(TesseraStore.accountThrottleKey(record.id), in: txn).failures
            return profile
        }
    }

    // MARK: Sessions

    /// Checks a password and opens a session.
    ///
    /// The policy, in order: a locked account (or locked unknown identifier) answers `locked`
    /// at once; an unknown user and a wrong password both cost one argon2id verify, record a
    /// failure durably and answer `bad-credentials`; only after a correct password is the
    /// account's state revealed (`account-not-validated`, `inactive-account`). A success clears
    /// the failure count and, when the configured argon2id parameters changed since the hash
    /// was made, stores a fresh hash.
    public func login(_ attempt: LoginAttempt) async throws -> LoginResult {
        try Validation.loginIdentifier(attempt.identifier)
        try Validation.password(attempt.password.count, minimum: 1)
        try Validation.sessionMetadata(clientIP: attempt.clientIP, userAgent: attempt.userAgent)
        let store = self.store
        let (found, throttleKey, throttle) = try store.environment.read { txn in
            let user = try store.user(identifier: attempt.identifier, in: txn)
            let key = TesseraStore.throttleKey(userID: user?.id, identifier: attempt.identifier)
            return (user, key, try store.throttleState(key, in: txn))
        }
        if let retry = throttle.retryAfter(now: clock.now()) { throw AuthError.locked(retryAfterSeconds: retry) }

        let hasher = configuration.passwordHasher
        let password = attempt.password
        let storedHash = found?.passwordHash
        let (passwordMatches, freshHash) = try await hashingPool.run { [self] () throws -> (Bool, String?) in
            guard let storedHash else {
                // Same work as a real check, so timing does not reveal that the user is unknown.
                _ = hasher.verify(password, against: try self.dummyPasswordHash())
                return (false, nil)
            }
            guard hasher.verify(password, against: storedHash) else { return (false, nil) }
            return (true, hasher.needsRehash(storedHash) ? try hasher.hash(password) : nil)
        }
        guard passwordMatches, let user = found else {
            try await recordFailedPassword(throttleKey)
            throw AuthError.badCredentials
        }
        switch user.state {
        case .active: break
        case .unvalidated: throw AuthError.accountNotValidated(validationCode: try await newValidationCode(for: user.id))
        case .disabled: throw AuthError.inactiveAccount
        }

        let now = clock.now()
        let lifetime = min(attempt.lifetimeSeconds ?? configuration.sessionLifetimeSeconds, configuration.sessionLifetimeSeconds)
        guard lifetime > 0 else { throw AuthError.invalidArgument("session lifetime must be at least one second") }
        let key = store.keyRing.active
        let token = SessionToken.generate(keyID: key.id)
        let refresh = SessionToken.generate(keyID: key.id, kind: SessionToken.refreshVersion)
        let familyID = SessionID.random()
        let record = SessionRecord(userID: user.id, createdAt: now, expiresAt: now + Int64(lifetime) * 1000, keyID: key.id,
                                   digest: token.digest(with: key), idleSeconds: effectiveIdleTimeout(attempt.idleTimeoutSeconds),
                                   familyID: familyID, roles: user.roles, clientIP: attempt.clientIP, userAgent: attempt.userAgent)
        let refreshRecord = RefreshRecord(userID: user.id, familyID: familyID, sessionID: token.sessionID, createdAt: now,
                                          expiresAt: now + Int64(configuration.refreshLifetimeSeconds) * 1000, keyID: key.id,
                                          digest: refresh.digest(with: key))
        let sessionID = token.sessionID
        let clearThrottle = throttle.failures > 0
        let cap = configuration.maximumSessionsPerUser
        try await commit { txn in
            // The user may have been deleted or disabled while the password was being checked.
            guard var current = try store.user(id: user.id, in: txn), current.state == .active else { throw AuthError.badCredentials }
            if cap > 0 { try Self.evictOldestSessions(ofUser: user.id, keeping: cap - 1, store: store, in: txn) }
            try sessionID.withUnsafeBytes { id in
                try record.encoded().withUnsafeBytes { try txn.put($0, forKey: id, in: store.sessions, overwrite: false) }
            }
            try txn.put([], forKey: TesseraStore.userSessionKey(user.id, sessionID), in: store.userSessions)
            try txn.put(refreshRecord.encoded(), forKey: refresh.sessionID.bytes, in: store.refreshTokens, overwrite: false)
            try txn.put(RefreshFamily(userID: user.id, state: .active, current: refresh.sessionID, createdAt: now).encoded(),
                        forKey: familyID.bytes, in: store.refreshFamilies, overwrite: false)
            if clearThrottle { try txn.delete(throttleKey, in: store.throttle) }
            if let freshHash, current.passwordHash == storedHash {
                current.passwordHash = freshHash
                current.updatedAt = now
            }
            current.lastLoginAt = now
            try txn.put(current.encoded(), forKey: TesseraStore.key(user.id), in: store.users)
        }
        logger.debug("session opened", metadata: ["user.id": "\(user.id)", "session.id": "\(sessionID)", "password.rehashed": "\(freshHash != nil)"])
        var profile = user.profile
        profile.lastLoginAt = now
        return LoginResult(token: token.text, sessionID: sessionID, expiresAt: record.expiresAt, user: profile,
                           refreshToken: refresh.text, refreshExpiresAt: refreshRecord.expiresAt)
    }

    /// Counts one more failed password check under `throttleKey`, durably, locking the account
    /// when the policy says so.
    func recordFailedPassword(_ throttleKey: [UInt8]) async throws {
        let (store, policy, failedAt) = (self.store, configuration.lockout, clock.now())
        try await commit { txn in
            let next = policy.recordingFailure(try store.throttleState(throttleKey, in: txn), now: failedAt)
            try txn.put(next.encoded(), forKey: throttleKey, in: store.throttle)
        }
    }

    /// A login's idle timeout: what it asked for, never longer than the configured one
    /// (and never "none" when one is configured).
    func effectiveIdleTimeout(_ requested: UInt32?) -> UInt32 {
        let configured = configuration.idleTimeoutSeconds
        guard configured > 0 else { return requested ?? 0 }
        guard let requested, requested > 0 else { return configured }
        return min(requested, configured)
    }

    // MARK: Validation

    /// Replaces an unvalidated account's code with a fresh one and returns it.
    func newValidationCode(for userID: UInt64) async throws -> String {
        let store = self.store
        let code = ValidationCode.generate(key: store.keyRing.active)
        try await commit { txn in
            guard var record = try store.user(id: userID, in: txn), record.state == .unvalidated else { throw AuthError.badCredentials }
            if !record.validationDigest.isEmpty { try txn.delete(record.validationDigest, in: store.validationCodes) }
            record.validationDigest = code.digest
            try txn.put(record.encoded(), forKey: TesseraStore.key(userID), in: store.users)
            try txn.put(TesseraStore.key(userID), forKey: code.digest, in: store.validationCodes)
        }
        return code.text
    }

    /// Activates the account a validation code was issued for. The code works once.
    public func validate(code text: String) async throws -> UserProfile {
        guard let digest = ValidationCode.digest(of: text, key: store.keyRing.active) else { throw AuthError.tokenInvalid }
        let store = self.store
        let now = clock.now()
        return try await commit { txn in
            guard let idBytes = try txn.value(forKey: digest, in: store.validationCodes), idBytes.count == 8 else { throw AuthError.tokenInvalid }
            let id = idBytes.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard var record = try store.user(id: id, in: txn), record.validationDigest == digest else { throw AuthError.tokenInvalid }
            try txn.delete(digest, in: store.validationCodes)
            record.validationDigest = []
            if record.state == .unvalidated { record.state = .active }
            record.updatedAt = now
            try txn.put(record.encoded(), forKey: TesseraStore.key(id), in: store.users)
            return record.profile
        }
    }

    // MARK: Profile

    /// Changes a user's profile. Changing the roles updates every live session's copy, so the
    /// next verify reports them.
    public func updateProfile(_ lookup: UserLookup, _ changes: ProfileChanges) async throws -> UserProfile {
        try Validation.profile(changes)
        let store = self.store
        let now = clock.now()
        return try await commit { txn in
            guard var record = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            let newEmail = changes.email.map { $0.isEmpty ? nil : $0 } ?? record.email
            let newPhone = changes.phone.map { $0.isEmpty ? nil : $0 } ?? record.phone
            try self.checkUnique(username: nil, email: newEmail, phone: newPhone, except: record.id, in: txn)
            if newEmail?.lowercased() != record.email?.lowercased() {
                if let old = record.email { try txn.delete(TesseraStore.normalized(old), in: store.emails) }
                if let new = newEmail { try txn.put(TesseraStore.key(record.id), forKey: TesseraStore.normalized(new), in: store.emails) }
            }
            if newPhone != record.phone {
                if let old = record.phone { try txn.delete(TesseraStore.normalized(old), in: store.phones) }
                if let new = newPhone { try txn.put(TesseraStore.key(record.id), forKey: TesseraStore.normalized(new), in: store.phones) }
            }
            record.apply(changes)
            record.email = newEmail
            record.phone = newPhone
            record.updatedAt = now
            try txn.put(record.encoded(), forKey: TesseraStore.key(record.id), in: store.users)
            if let roles = changes.roles {
                for id in try store.sessionIDs(ofUser: record.id, in: txn) {
                    guard var session = try store.sessionRecord(id, in: txn) else { continue }
                    session.roles = roles
                    try txn.put(session.encoded(), forKey: id.bytes, in: store.sessions)
                }
            }
            return record.profile
        }
    }

    // MARK: Administration

    /// Sets an account's state. Leaving `active` ends every session of the account.
    public func setState(_ lookup: UserLookup, to state: AccountState) async throws -> UserProfile {
        let store = self.store
        let now = clock.now()
        return try await commit { txn in
            guard var user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            user.state = state
            user.updatedAt = now
            try txn.put(user.encoded(), forKey: TesseraStore.key(user.id), in: store.users)
            if state != .active { _ = try Self.deleteSessions(ofUser: user.id, except: nil, store: store, in: txn) }
            return user.profile
        }
    }

    /// Clears an account's failed-login count and lock.
    public func unlock(_ lookup: UserLookup) async throws {
        let store = self.store
        try await commit { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            try txn.delete(TesseraStore.accountThrottleKey(user.id), in: store.throttle)
        }
    }

    /// The failed-login state of an account.
    public func throttleState(_ lookup: UserLookup) throws -> ThrottleState {
        try store.environment.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return try store.throttleState(TesseraStore.accountThrottleKey(user.id), in: txn)
        }
    }

    /// A user's sessions (live and expired but not yet removed), oldest first.
    public func sessions(of lookup: UserLookup) throws -> [SessionSummary] {
        try store.environment.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return try store.sessionIDs(ofUser: user.id, in: txn).compactMap { id in
                try id.withUnsafeBytes { key in
                    try txn.withValue(forKey: key, in: store.sessions) { try SessionRecord(decoding: $0) }
                }.map { SessionSummary(id: id, createdAt: $0.createdAt, expiresAt: $0.expiresAt, clientIP: $0.clientIP, userAgent: $0.userAgent) }
            }.sorted { $0.createdAt < $1.createdAt }
        }
    }

    /// Ends one session by its id.
    public func revokeSession(_ id: SessionID) async throws {
        let store = self.store
        try await commit { txn in
            guard try store.endSession(id, in: txn) else { throw AuthError.notFound("session") }
        }
    }

    /// Ends every session of a user, or every one but `except`. Returns how many ended.
    public func revokeAllSessions(_ lookup: UserLookup, except: SessionID? = nil) async throws -> Int {
        let store = self.store
        return try await commit { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return try Self.deleteSessions(ofUser: user.id, except: except, store: store, in: txn)
        }
    }

    /// Ends the oldest sessions of a user until at most `keeping` remain.
    static func evictOldestSessions(ofUser userID: UInt64, keeping: Int, store: TesseraStore, in txn: WriteTransaction) throws {
        let ids = try store.sessionIDs(ofUser: userID, in: txn)
        guard ids.count > keeping else { return }
        let byAge = try ids.compactMap { id in try store.sessionRecord(id, in: txn).map { (id, $0.createdAt) } }.sorted { $0.1 < $1.1 }
        for (id, _) in byAge.prefix(byAge.count - keeping) { try store.endSession(id, in: txn) }
    }

    private static func deleteSessions(ofUser userID: UInt64, except: SessionID?, store: TesseraStore, in txn: WriteTransaction) throws -> Int {
        var count = 0
        for id in try store.sessionIDs(ofUser: userID, in: txn) where id != except {
            if try store.endSession(id, in: txn) { count += 1 }
        }
        return count
    }

    /// Ends the session of `token`. An expired session is removed too; an unknown or forged
    /// token fails with ``AuthError/tokenInvalid``.
    public func logout(token text: String) async throws {
        guard let token = SessionToken.parse(text), let key = store.keyRing.key(id: token.keyID) else { throw AuthError.tokenInvalid }
        let digest = token.digest(with: key)
        let store = self.store
        let sessionID = token.sessionID
        try await commit { txn in
            let userID: UInt64? = try sessionID.withUnsafeBytes { id in
                try txn.withValue(forKey: id, in: store.sessions) { bytes -> UInt64? in
                    let view = try SessionRecordView(bytes)
                    let matches = digest.withUnsafeBytes { ConstantTime.equals($0, view.digest) } && view.keyID == token.keyID
                    return matches ? view.userID : nil
                } ?? nil
            }
            guard userID != nil else { throw AuthError.tokenInvalid }
            try store.endSession(sessionID, in: txn)
        }
    }

    // MARK: Verify

    /// Runs `body` with a read snapshot: the server verifies a whole batch of tokens in one.
    @inlinable
    public func withSnapshot<R>(_ body: (ReadSnapshot) throws -> R) throws -> R {
        try store.environment.read { txn in
            try body(ReadSnapshot(txn: txn, store: store, touchInterval: Int64(configuration.lastSeenIntervalSeconds) * 1000))
        }
    }

    /// Records that the sessions `ids` were used at `now`, extending their idle deadlines. One
    /// commit for the whole batch, and a session is written at most about once per
    /// `lastSeenIntervalSeconds` however often it is verified. Failures are logged, not thrown:
    /// the verifies that asked for the touch have already been answered.
    public func touch(_ ids: [SessionID], at now: Timestamp) {
        guard !ids.isEmpty else { return }
        let store = self.store
        let halfInterval = Int64(configuration.lastSeenIntervalSeconds) * 500
        let logger = self.logger
        commitQueue.submit({ txn in
            for id in ids {
                try id.withUnsafeBytes { key in
                    guard var record = try txn.withValue(forKey: key, in: store.sessions, { try SessionRecord(decoding: $0) }),
                          now - record.lastSeen >= halfInterval, record.deadline() > now else { return }
                    record.lastSeen = now
                    try record.encoded().withUnsafeBytes { try txn.put($0, forKey: key, in: store.sessions) }
                }
            }
        }, completion: { result in
            if case .failure(let error) = result { logger.warning("last-seen update failed", metadata: ["error": "\(error)"]) }
        })
    }

    /// Verifies one token in its own snapshot and copies the result out; records the use
    /// when the session's idle deadline needs extending.
    public func verify(token: String) throws -> VerifiedSessionInfo {
        let now = clock.now()
        var text = token
        let info = try text.withUTF8 { utf8 in
            try withSnapshot { snapshot in
                VerifiedSessionInfo(try snapshot.verify(token: UnsafeRawBufferPointer(utf8), now: now))
            }
        }
        if info.touchDue { touch([info.sessionID], at: now) }
        return info
    }

    // MARK: Plumbing

    func commit<T: Sendable>(_ work: @escaping @Sendable (WriteTransaction) throws -> T) async throws -> T {
        do {
            return try await commitQueue.write(work)
        } catch let error as AuthError {
            throw error
        } catch LMDBError.storageFull {
            throw AuthError.storageFull
        } catch {
            logger.error("write failed", metadata: ["error": "\(error)"])
            throw AuthError.internal("the write could not be committed")
        }
    }

    /// A hash of a random password at the current parameters, made once on first use.
    private func dummyPasswordHash() throws -> String {
        if let hash = dummyHash.withLock({ $0 }) { return hash }
        var random = SecureRandom.bytes(32)
        let hash = try configuration.passwordHasher.hash(SecretBytes(wiping: &random))
        dummyHash.withLock { $0 = hash }
        return hash
    }
}
