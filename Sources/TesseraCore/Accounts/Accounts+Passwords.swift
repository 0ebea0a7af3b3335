import LMDBKit
import SodiumKit

extension Accounts {
    /// Changes a password: the current one must be given (checked with the login policy's
    /// throttle; the right one clears the failure count). Every other session of the user ends, and
    /// every API key; the session of `token` stays.
    package func changePassword(token: String, current: SecretBytes, new: SecretBytes) async throws {
        try Validation.password(new.count, minimum: configuration.minimumPasswordLength)
        let session = try verification.verify(token: token)
        // A session's holder changes its password; an API key is not a session.
        guard session.apiKeyName == nil else { throw AuthError.tokenInvalid }
        let store = self.store
        guard let user = try store.read({ txn in try store.user(id: session.userID, in: txn) }) else { throw AuthError.tokenInvalid }
        let storedHash = user.passwordHash
        try await passwords.attempt(.account(user.id), password: current, against: storedHash) { _, turn in
            let newHash = try await passwords.hash(new)
            let now = clock.now()
            try await store.write { txn in
                guard let previous = try store.user(id: user.id, in: txn), previous.passwordHash == storedHash else {
                    throw AuthError.conflict("the password was changed meanwhile; try again")
                }
                var record = previous
                record.passwordHash = newHash
                record.updatedAt = now
                try store.revokeEveryCredential(of: &record, exceptSession: session.sessionID, at: now, in: txn)
                try store.putUser(record, replacing: previous, in: txn)
                try turn.clearFailures(in: txn, of: store)
            }
        }
    }

    /// Sets a password without the current one (an administrator's reset). Every session and
    /// every API key of the user ends and the failed-login counts are cleared (``unlock(_:)``).
    /// Returns how many live sessions and keys ended.
    @discardableResult
    package func setPassword(_ lookup: UserLookup, to new: SecretBytes) async throws -> (sessions: Int, apiKeys: Int) {
        try Validation.password(new.count, minimum: configuration.minimumPasswordLength)
        let store = self.store
        guard try store.read({ txn in try store.user(lookup, in: txn) }) != nil else { throw AuthError.notFound("user") }
        let hash = try await passwords.hash(new)
        let now = clock.now()
        return try await store.write { txn in
            guard let previous = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            var record = previous
            record.passwordHash = hash
            record.updatedAt = now
            let ended = try store.revokeEveryCredential(of: &record, exceptSession: nil, at: now, in: txn)
            try store.putUser(record, replacing: previous, in: txn)
            try store.clearThrottles(of: record, in: txn)
            return ended
        }
    }
}
