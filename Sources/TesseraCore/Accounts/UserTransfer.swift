import LMDBKit
import Logging
import SodiumKit
import TesseraModel

/// One user brought from another system (IMPORT_USERS): its profile, its password hash as that
/// system stored it (any scheme of ``StoredPassword``; none: the user logs in only after an
/// administrator sets a password), its creation time and, optionally, its TOTP secret.
package struct ImportedUser: Sendable {
    package var username: String
    package var profile = ProfileChanges()
    package var passwordHash: String?
    package var state: AccountState = .active
    /// Unix milliseconds; `nil`: now.
    package var createdAt: Timestamp?
    /// A confirmed TOTP secret (RFC 6238, 30-second steps), 10 to 64 bytes.
    package var totpSecret: [UInt8]?
    package var totpAlgorithm: HMAC.Algorithm = .sha1
    /// 6 to 8.
    package var totpDigits = 6
    /// An exported user's id here (ignored by an import: a user gets a fresh id).
    package var userID: UInt64 = 0
    /// The other system's live login tokens, each a session here.
    package var sessions: [ImportedSession] = []
    /// The other system's personal access tokens, each an API key here.
    package var apiKeys: [ImportedAPIKey] = []
    /// SHA-256 of each unused backup code (32 bytes each), each a recovery code here; only with
    /// ``totpSecret``.
    package var recoveryCodeDigests: [[UInt8]] = []

    package init(username: String) { self.username = username }
}

/// A login token another system issued, known by the SHA-256 of its text: a session of its
/// user here, verified with the same text (``ImportedToken``).
package struct ImportedSession: Sendable, Equatable {
    package var tokenSHA256: [UInt8]
    package var createdAt: Timestamp
    /// When it stops verifying; a session already expired is left out.
    package var expiresAt: Timestamp

    package init(tokenSHA256: [UInt8], createdAt: Timestamp, expiresAt: Timestamp) {
        (self.tokenSHA256, self.createdAt, self.expiresAt) = (tokenSHA256, createdAt, expiresAt)
    }
}

/// A personal access token another system issued, known by the SHA-256 of its text: an API
/// key of its user here, with every role of the user as its permissions.
package struct ImportedAPIKey: Sendable, Equatable {
    package var tokenSHA256: [UInt8]
    package var name: String
    package var createdAt: Timestamp
    /// 0: never expires. A key already expired is left out.
    package var expiresAt: Timestamp = 0

    package init(tokenSHA256: [UInt8], name: String, createdAt: Timestamp, expiresAt: Timestamp = 0) {
        (self.tokenSHA256, self.name, self.createdAt, self.expiresAt) = (tokenSHA256, name, createdAt, expiresAt)
    }
}

/// What became of each record of a batch.
package struct ImportOutcome: Sendable, Equatable {
    /// Records written as new users (with `dryRun`: that would be).
    package var created = 0
    /// Imported tokens written as sessions, and as API keys (not those expired, nor a token
    /// imported before).
    package var sessions = 0
    package var apiKeys = 0
    /// Records whose user was there already (same username and external id): left alone.
    package var unchanged = 0
    /// Records refused, by their index in the batch, with the reason.
    package var rejected: [(index: Int, reason: String)] = []
    /// The position stored for the source (after this batch's, when it gave one).
    package var position: UInt64 = 0

    package static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.created == rhs.created && lhs.unchanged == rhs.unchanged && lhs.position == rhs.position
            && lhs.sessions == rhs.sessions && lhs.apiKeys == rhs.apiKeys
            && lhs.rejected.map(\.index) == rhs.rejected.map(\.index) && lhs.rejected.map(\.reason) == rhs.rejected.map(\.reason)
    }
}

/// Importing users from another system, in batches, while the daemon serves.
///
/// A batch is one transaction: its accepted records, and the source's position when one is
/// given, commit together or not at all, so an import killed at any point resumes from its
/// stored position and writes every user exactly once. Each record is checked alone; a
/// refused record is reported with its reason and the others go on. A record whose username
/// names a user with the same external id (both without one included) is that user imported
/// before, and is left as it is now (a login may have re-hashed its password since): a second
/// run of the same import changes nothing. Nothing is hashed: a foreign hash is kept as it is
/// and replaced at the user's first login (``PasswordCheck``), and its cost is kept as a dummy
/// so that refused checks take as long while such hashes are left (``ForeignCheckPace``).
package struct UserTransfer: Sendable {
    let store: TesseraStore
    let clock: any Clock
    let logger: Logger

    /// At most this many records a batch.
    package static let maximumBatch = 1000
    /// At most this long, the name of a source whose position is kept.
    package static let maximumSourceLength = 128

    /// Imports `users`; with `dryRun`, checks them against the store as it is without writing.
    /// `source` and `position`: the position to keep for that source with this batch (a client's
    /// resume point; the store keeps the largest one given). With no users, only reads it.
    package func importUsers(_ users: [ImportedUser], dryRun: Bool, source: String?, position: UInt64?) async throws -> ImportOutcome {
        guard users.count <= Self.maximumBatch else {
            throw AuthError.invalidArgument("at most \(Self.maximumBatch) users a batch")
        }
        if let source {
            guard !source.isEmpty, source.utf8.count <= Self.maximumSourceLength else {
                throw AuthError.invalidArgument("source must be 1 to \(Self.maximumSourceLength) bytes")
            }
        }
        var outcome = ImportOutcome()
        var accepted: [Accepted] = []
        let now = clock.now()
        for (index, user) in users.enumerated() {
            do {
                let (record, hash) = try Self.record(user, now: now)
                accepted.append((index, record, hash, user))
            } catch {
                outcome.rejected.append((index, error.description))
            }
        }
        let (store, checked, records) = (self.store, outcome, accepted)
        if dryRun || (users.isEmpty && position == nil) {
            return try store.read { txn in try Self.apply(records, to: checked, source: source, position: position, now: now, store, txn, nil) }
        }
        let written = try await store.write { txn in
            try Self.apply(records, to: checked, source: source, position: position, now: now, store, txn, txn)
        }
        if written.created > 0 || !written.rejected.isEmpty {
            logger.debug(
                "users imported",
                metadata: ["created": "\(written.created)", "unchanged": "\(written.unchanged)", "rejected": "\(written.rejected.count)"])
        }
        return written
    }

    private typealias Accepted = (index: Int, record: UserRecord, hash: StoredPassword?, user: ImportedUser)

    /// Writes the `accepted` records in `write` (with none, only checks them against `txn`), and
    /// keeps `position` for `source`.
    private static func apply(
        _ accepted: [Accepted], to checked: ImportOutcome, source: String?, position: UInt64?, now: Timestamp, _ store: TesseraStore,
        _ txn: some ReadableTransaction, _ write: WriteTransaction?
    ) throws -> ImportOutcome {
        var outcome = checked
        for item in accepted {
            var record = item.record
            if let existing = try store.user(.username(record.username), in: txn), existing.externalID == record.externalID {
                outcome.unchanged += 1
                continue
            }
            do {
                try store.checkUnique(username: record.username, email: record.email, phone: record.phone, in: txn)
                guard let write else {
                    outcome.created += 1
                    continue
                }
                record.id = try store.allocateUserID(in: write)
                if let hash = item.hash { try store.putForeignDummy(for: hash, in: write) }
                try store.putUser(record, replacing: nil, in: write)
                if let secret = item.user.totpSecret {
                    let key = try store.keyRing(in: write).activeSealing
                    var secrets = TwoFactorSecrets(secret: secret)
                    secrets.recoveryDigests = item.user.recoveryCodeDigests.map(secrets.digest(ofImportedCode:))
                    var twoFactor = TwoFactorRecord(
                        state: .enrolled, algorithm: item.user.totpAlgorithm, digits: UInt8(item.user.totpDigits), period: TwoFactor.periodSeconds,
                        createdAt: record.createdAt,
                        keyID: key.id, sealed: secrets.sealed(for: record.id, with: key))
                    twoFactor.confirmedAt = record.createdAt
                    twoFactor.recoveryCodesLeft = UInt8(secrets.recoveryDigests.count)
                    try store.putTwoFactorRecord(twoFactor, ofUser: record.id, in: write)
                }
                try importTokens(of: item.user, as: record, now: now, store, write, into: &outcome)
                outcome.created += 1
            } catch let error as AuthError {
                outcome.rejected.append((item.index, error.description))
            }
        }
        outcome.rejected.sort { $0.index < $1.index }
        if let source {
            let stored = try store.importPosition(of: source, in: txn)
            if let position, position > stored, let write {
                try store.putImportPosition(position, of: source, in: write)
                outcome.position = position
            } else {
                outcome.position = stored
            }
        }
        return outcome
    }

    /// Writes the live imported tokens of `user` (just written as `record`) as its sessions and
    /// API keys, their digests under the active token-digest key. A token expired by `now`, or
    /// one a session or a key holds already, is left out.
    private static func importTokens(
        of user: ImportedUser, as record: UserRecord, now: Timestamp, _ store: TesseraStore, _ txn: WriteTransaction,
        into outcome: inout ImportOutcome
    ) throws {
        guard !user.sessions.isEmpty || !user.apiKeys.isEmpty else { return }
        let key = try store.keyRing(in: txn).active
        for session in user.sessions where session.expiresAt > now {
            guard let token = ImportedToken(sha256: session.tokenSHA256), try !store.holdsImported(token, in: txn) else { continue }
            let stored = SessionRecord(
                userID: record.id, createdAt: session.createdAt, expiresAt: session.expiresAt, keyID: key.id, digest: token.digest(with: key),
                roles: record.roles, clientIP: nil, userAgent: nil)
            try store.insertImportedSession(token, stored, in: txn)
            outcome.sessions += 1
        }
        for apiKey in user.apiKeys where apiKey.expiresAt == 0 || apiKey.expiresAt > now {
            guard let token = ImportedToken(sha256: apiKey.tokenSHA256), try !store.holdsImported(token, in: txn) else { continue }
            let stored = APIKeyRecord(
                userID: record.id, createdAt: apiKey.createdAt, expiresAt: apiKey.expiresAt, keyID: key.id, digest: token.digest(with: key),
                permissions: record.roles, name: apiKey.name)
            try store.insertImportedAPIKey(token, stored, in: txn)
            outcome.apiKeys += 1
        }
    }

    /// Users in id order after `afterID`, at most `limit`, as ``importUsers(_:dryRun:source:position:)``
    /// takes them back: the stored hash as it is (argon2id, or an imported one not yet
    /// replaced), the TOTP secret of an enrolled user when `withTwoFactorSecrets`. A user with no
    /// password (none imported) has none. The second value is the `afterID` of the next page.
    package func exportUsers(after afterID: UInt64, limit: Int, withTwoFactorSecrets: Bool) throws -> ([ImportedUser], UInt64?) {
        guard (1...1000).contains(limit) else { throw AuthError.invalidArgument("limit must be 1 to 1000") }
        let store = self.store
        let users = try store.read { txn -> [ImportedUser] in
            let ring = try store.keyRing(in: txn)
            return try store.users(after: afterID, limit: limit, in: txn).map { record in
                var user = ImportedUser(username: record.username)
                user.profile.email = record.email
                user.profile.displayName = record.displayName
                user.profile.roles = record.roles
                user.profile.phone = record.phone
                user.profile.imageURL = record.imageURL
                user.profile.accountType = record.accountType
                user.profile.rootRole = record.rootRole
                user.profile.externalID = record.externalID
                user.profile.settings = record.settings
                user.profile.attributes = record.attributes
                user.state = record.state
                user.createdAt = record.createdAt
                user.passwordHash = record.passwordHash.isEmpty ? nil : record.passwordHash
                user.userID = record.id
                if withTwoFactorSecrets, let twoFactor = try store.twoFactorRecord(ofUser: record.id, in: txn), twoFactor.state == .enrolled {
                    guard let key = ring.sealingKey(id: twoFactor.keyID),
                        let secrets = TwoFactorSecrets(opening: twoFactor.sealed, for: record.id, with: key)
                    else { throw AuthError.internal("the second factor of user \(record.id) does not open") }
                    user.totpSecret = secrets.secret
                    user.totpAlgorithm = twoFactor.algorithm
                    user.totpDigits = Int(twoFactor.digits)
                }
                return user
            }
        }
        if withTwoFactorSecrets { logger.notice("users exported with their two-factor secrets", metadata: ["users": "\(users.count)"]) }
        return (users, users.count == limit ? users.last?.userID : nil)
    }

    /// At most this many imported sessions a user (the other system's newest; an importer
    /// leaves the older out), and this many backup codes.
    package static let maximumSessions = 100
    package static let maximumRecoveryCodes = 20

    /// Checks the imported tokens and backup codes of `user`.
    static func checkTokens(of user: ImportedUser, now: Timestamp) throws(AuthError) {
        guard user.sessions.count <= maximumSessions else {
            throw AuthError.invalidArgument("at most \(maximumSessions) sessions a user, not \(user.sessions.count)")
        }
        guard user.apiKeys.count <= APIKeys.maximumPerUser else {
            throw AuthError.invalidArgument("at most \(APIKeys.maximumPerUser) API keys a user, not \(user.apiKeys.count)")
        }
        for (index, session) in user.sessions.enumerated() {
            guard session.tokenSHA256.count == 32 else { throw AuthError.invalidArgument("session \(index): token_sha256 must be 32 bytes") }
            guard session.createdAt >= 0, session.createdAt <= now + 86_400_000, session.expiresAt > session.createdAt else {
                throw AuthError.invalidArgument("session \(index): created_at and expires_at must be Unix milliseconds, expiry after creation")
            }
        }
        for (index, key) in user.apiKeys.enumerated() {
            guard key.tokenSHA256.count == 32 else { throw AuthError.invalidArgument("API key \(index): token_sha256 must be 32 bytes") }
            try Validation.printable(key.name, field: "API key \(index): name", maximum: APIKeys.maximumName)
            guard key.createdAt >= 0, key.createdAt <= now + 86_400_000, key.expiresAt == 0 || key.expiresAt > key.createdAt else {
                throw AuthError.invalidArgument("API key \(index): created_at and expires_at must be Unix milliseconds, expiry after creation")
            }
        }
        if !user.recoveryCodeDigests.isEmpty {
            guard user.totpSecret != nil else { throw AuthError.invalidArgument("recovery codes come with a TOTP secret") }
            guard user.recoveryCodeDigests.count <= maximumRecoveryCodes, user.recoveryCodeDigests.allSatisfy({ $0.count == 32 }) else {
                throw AuthError.invalidArgument("at most \(maximumRecoveryCodes) recovery codes, each a 32-byte SHA-256")
            }
        }
        let tokens = (user.sessions.map(\.tokenSHA256) + user.apiKeys.map(\.tokenSHA256))
        guard Set(tokens).count == tokens.count else { throw AuthError.invalidArgument("a token appears twice") }
    }

    /// The record for `user`, checked as CREATE_USER checks its fields, with its parsed hash.
    static func record(_ user: ImportedUser, now: Timestamp) throws(AuthError) -> (UserRecord, StoredPassword?) {
        try Validation.username(user.username)
        if let email = user.profile.email, !email.isEmpty { try Validation.email(email) }
        if let name = user.profile.displayName { try Validation.displayName(name) }
        try Validation.roles(user.profile.roles ?? [])
        try Validation.profile(user.profile)
        var hash: StoredPassword?
        if let text = user.passwordHash {
            guard let parsed = StoredPassword(parsing: text) else {
                throw AuthError.invalidArgument("password_hash is of no scheme Tessera checks (\(StoredPassword.describe(text)))")
            }
            hash = parsed
        }
        if let createdAt = user.createdAt {
            // From 1970 to a day ahead of this host's clock: a date past that is a unit mistake.
            guard createdAt >= 0, createdAt <= now + 86_400_000 else {
                throw AuthError.invalidArgument("created_at \(createdAt) is not a Unix time in milliseconds up to now")
            }
        }
        if let secret = user.totpSecret, !(10...64).contains(secret.count) {
            throw AuthError.invalidArgument("the TOTP secret must be 10 to 64 bytes, not \(secret.count)")
        }
        guard (6...8).contains(user.totpDigits) else { throw AuthError.invalidArgument("TOTP codes have 6 to 8 digits") }
        try checkTokens(of: user, now: now)
        let createdAt = user.createdAt ?? now
        var record = UserRecord(
            id: 0, createdAt: createdAt, updatedAt: createdAt, state: user.state, passwordHash: hash?.text ?? "",
            username: user.username, email: nil, displayName: nil, roles: [])
        try record.apply(user.profile)
        record.email = user.profile.email.flatMap { $0.isEmpty ? nil : $0 }
        record.phone = user.profile.phone.flatMap { $0.isEmpty ? nil : $0 }
        return (record, hash)
    }
}
