import LMDBKit
import Logging
import SodiumKit
import TesseraModel

/// Accounts: sign-up, profile reads and changes, states, unlocks, deletion, listing, and the
/// validation of accounts created unvalidated. Password changes are in `Accounts+Passwords.swift`.
@_spi(TesseraInternal) public struct Accounts: Sendable {
    let store: TesseraStore
    package let configuration: AuthConfiguration
    let passwords: PasswordCheck
    let verification: Verification
    let clock: any Clock
    let logger: Logger

    // MARK: Sign-up

    /// Creates a user. The password is hashed on the hashing pool, then the user is committed.
    @_spi(TesseraInternal) public func createUser(_ request: NewUser) async throws -> UserProfile {
        try await register(request).user
    }

    /// Creates a user and, for an account created unvalidated, the code ``validate(code:)`` takes.
    package func register(_ request: NewUser) async throws -> (user: UserProfile, validationCode: IssuedValidationCode?) {
        try Validation.username(request.username)
        if let email = request.email { try Validation.email(email) }
        if let name = request.displayName { try Validation.displayName(name) }
        try Validation.roles(request.roles)
        try Validation.profile(request.profile)
        try Validation.password(request.password.count, minimum: configuration.minimumPasswordLength)
        let store = self.store
        let phone = request.profile.phone.flatMap { $0.isEmpty ? nil : $0 }
        // Fail fast on a taken name before spending a hash on it; the commit checks again. A web
        // process's sign-up learns of a taken email or phone only after the hash (usernames are
        // public names: a sign-up form must say that one is taken).
        let hidesAddresses = request.hidesAddresses
        try store.read { txn in
            try store.checkUnique(
                username: request.username, email: hidesAddresses ? nil : request.email, phone: hidesAddresses ? nil : phone, in: txn)
        }
        let hash = try await passwords.hash(request.password)
        let now = clock.now()
        let code = request.unvalidated ? ValidationCode.generate(key: store.keyRing.active) : nil
        let expiresAt = now + Int64(configuration.validationCodeLifetimeSeconds) * 1000
        let profile: UserProfile
        do {
            profile = try await store.write { txn -> UserProfile in
                var record = UserRecord(
                    id: try store.allocateUserID(in: txn), createdAt: now, updatedAt: now,
                    state: request.unvalidated ? .unvalidated : .active,
                    passwordHash: hash, username: request.username, email: request.email,
                    displayName: request.displayName, roles: request.roles)
                try record.apply(request.profile)
                record.phone = phone
                record.validationDigest = code?.digest ?? []
                record.validationExpiresAt = code == nil ? 0 : expiresAt
                try store.putUser(record, replacing: nil, in: txn)
                return record.profile
            }
        } catch AuthError.addressTaken where hidesAddresses {
            // The commit's own check: a web process is told only that an account holds it.
            throw AuthError.alreadyRegistered
        }
        logger.info("user created", metadata: ["user.id": "\(profile.id)"])
        return (profile, code.map { IssuedValidationCode(code: $0.text, expiresAt: expiresAt) })
    }

    // MARK: Reads

    /// Reads a user.
    @_spi(TesseraInternal) public func user(_ lookup: UserLookup) throws -> UserProfile {
        try store.read { txn in
            guard let record = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            var profile = record.profile
            profile.failedLogins = try store.throttleState(TesseraStore.accountThrottleKey(record.id), in: txn).failures
            return profile
        }
    }

    /// Users in id order, starting after `afterID`, at most `limit` (1–1000).
    package func listUsers(after afterID: UInt64 = 0, limit: Int = 100) throws -> [UserProfile] {
        guard (1...1000).contains(limit) else { throw AuthError.invalidArgument("limit must be between 1 and 1000") }
        return try store.read { txn in try store.users(after: afterID, limit: limit, in: txn).map(\.profile) }
    }

    /// The failed-login state of an account.
    package func throttleState(_ lookup: UserLookup) throws -> ThrottleState {
        try store.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return try store.throttleState(TesseraStore.accountThrottleKey(user.id), in: txn)
        }
    }

    // MARK: Changes

    /// Changes a user's profile. Changing the roles updates every live session's copy, so the
    /// next verify reports them.
    package func updateProfile(_ lookup: UserLookup, _ changes: ProfileChanges) async throws -> UserProfile {
        try Validation.profile(changes)
        let store = self.store
        let now = clock.now()
        return try await store.write { txn in
            guard let previous = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            var record = previous
            try record.apply(changes)
            record.email = changes.email.map { $0.isEmpty ? nil : $0 } ?? previous.email
            record.phone = changes.phone.map { $0.isEmpty ? nil : $0 } ?? previous.phone
            record.updatedAt = now
            try store.putUser(record, replacing: previous, in: txn)
            if let roles = changes.roles {
                try store.restrictAPIKeyPermissions(ofUser: record.id, to: roles, in: txn)
                for id in try store.sessionIDs(ofUser: record.id, in: txn) {
                    guard var session = try store.sessionRecord(id, in: txn) else { continue }
                    session.roles = roles
                    try store.replaceSession(id, session, in: txn)
                }
            }
            return record.profile
        }
    }

    /// Sets an account's state. Leaving `active` ends every session of the account and revokes
    /// every API key.
    package func setState(_ lookup: UserLookup, to state: AccountState) async throws -> UserProfile {
        let store = self.store
        let now = clock.now()
        return try await store.write { txn in
            guard let previous = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            var user = previous
            user.state = state
            user.updatedAt = now
            if state != .active {
                try store.revokeEveryCredential(of: &user, exceptSession: nil, at: now, in: txn)
            }
            try store.putUser(user, replacing: previous, in: txn)
            return user.profile
        }
    }

    /// Clears the failed-login counts and locks of an account and of its username, email and
    /// phone.
    package func unlock(_ lookup: UserLookup) async throws {
        let store = self.store
        try await store.write { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            try store.clearThrottles(of: user, in: txn)
        }
    }

    /// Deletes a user with every session, refresh family, index entry and failure count.
    package func deleteUser(_ lookup: UserLookup) async throws {
        let store = self.store
        try await store.write { txn in
            guard let record = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            try store.deleteUser(record, in: txn)
        }
    }

    // MARK: Validation

    /// Issues a fresh validation code for an account waiting for validation, replacing its
    /// previous code (which stops working), for the web process to send again. An unknown user
    /// and an account that is not waiting for validation both answer ``AuthError/notFound(_:)``.
    package func newValidationCode(for lookup: UserLookup) async throws -> (user: UserProfile, code: IssuedValidationCode) {
        let store = self.store
        let code = ValidationCode.generate(key: store.keyRing.active)
        let now = clock.now()
        let expiresAt = now + Int64(configuration.validationCodeLifetimeSeconds) * 1000
        let user = try await store.write { txn -> UserProfile in
            guard let previous = try store.user(lookup, in: txn), previous.state == .unvalidated else {
                throw AuthError.notFound("no account waiting for validation")
            }
            var record = previous
            record.validationDigest = code.digest
            record.validationExpiresAt = expiresAt
            record.updatedAt = now
            try store.putUser(record, replacing: previous, in: txn)
            return record.profile
        }
        return (user, IssuedValidationCode(code: code.text, expiresAt: expiresAt))
    }

    /// Activates the account a validation code was issued for. The code works once, until it
    /// expires (``AuthError/tokenExpired``).
    package func validate(code text: String) async throws -> UserProfile {
        // A code was made under the key active then: any key still verifying may be it.
        let digests = store.keyRing.verifying.compactMap { ValidationCode.digest(of: text, key: $0) }
        guard !digests.isEmpty else { throw AuthError.tokenInvalid }
        let store = self.store
        let now = clock.now()
        return try await store.write { txn in
            guard let previous = try digests.lazy.compactMap({ try store.user(validationDigest: $0, in: txn) }).first else {
                throw AuthError.tokenInvalid
            }
            guard previous.validationExpiresAt > now else { throw AuthError.tokenExpired }
            var record = previous
            record.validationDigest = []
            record.validationExpiresAt = 0
            if record.state == .unvalidated { record.state = .active }
            record.updatedAt = now
            try store.putUser(record, replacing: previous, in: txn)
            return record.profile
        }
    }
}

/// A validation code as handed to the web process: the code, and when it stops working.
package struct IssuedValidationCode: Sendable, Equatable {
    package var code: String
    package var expiresAt: Timestamp
}
