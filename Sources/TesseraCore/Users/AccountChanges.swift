import LMDBKit
import SodiumKit

extension AuthService {
    /// Changes a password: the current one must be given (checked with the login policy's
    /// throttle). Every other session of the user ends; the session of `token` stays.
    public func changePassword(token: String, current: SecretBytes, new: SecretBytes) async throws {
        try Validation.password(new.count, minimum: configuration.minimumPasswordLength)
        let session = try verify(token: token)
        let store = self.store
        guard let user = try store.environment.read({ txn in try store.user(id: session.userID, in: txn) }) else {
            throw AuthError.tokenInvalid
        }
        let throttleKey = TesseraStore.accountThrottleKey(user.id)
        if let retry = try store.environment.read({ try store.throttleState(throttleKey, in: $0) }).retryAfter(now: clock.now()) {
            throw AuthError.locked(retryAfterSeconds: retry)
        }
        let hasher = configuration.passwordHasher
        let storedHash = user.passwordHash
        let newHash: String? = try await hashingPool.run {
            guard hasher.verify(current, against: storedHash) else { return nil }
            return try hasher.hash(new)
        }
        guard let newHash else {
            try await recordFailedPassword(throttleKey)
            throw AuthError.badCredentials
        }
        let now = clock.now()
        try await commit { txn in
            guard var record = try store.user(id: user.id, in: txn), record.passwordHash == storedHash else {
                throw AuthError.conflict("the password was changed meanwhile; try again")
            }
            record.passwordHash = newHash
            record.updatedAt = now
            try txn.put(record.encoded(), forKey: TesseraStore.key(user.id), in: store.users)
            for id in try store.sessionIDs(ofUser: user.id, in: txn) where id != session.sessionID {
                try store.endSession(id, in: txn)
            }
        }
    }

    /// Sets a password without the current one (an administrator's reset). Every session of
    /// the user ends and the failed-login count is cleared.
    public func setPassword(_ lookup: UserLookup, to new: SecretBytes) async throws {
        try Validation.password(new.count, minimum: configuration.minimumPasswordLength)
        let store = self.store
        guard try store.environment.read({ txn in try store.user(lookup, in: txn) }) != nil else { throw AuthError.notFound("user") }
        let hasher = configuration.passwordHasher
        let hash = try await hashingPool.run { try hasher.hash(new) }
        let now = clock.now()
        try await commit { txn in
            guard var record = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            record.passwordHash = hash
            record.updatedAt = now
            try txn.put(record.encoded(), forKey: TesseraStore.key(record.id), in: store.users)
            for id in try store.sessionIDs(ofUser: record.id, in: txn) { try store.endSession(id, in: txn) }
            try txn.delete(TesseraStore.accountThrottleKey(record.id), in: store.throttle)
        }
    }

    /// Deletes a user with every session, refresh family, index entry and failure count.
    public func deleteUser(_ lookup: UserLookup) async throws {
        let store = self.store
        try await commit { txn in
            guard let record = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            for id in try store.sessionIDs(ofUser: record.id, in: txn) { try store.endSession(id, in: txn) }
            try txn.delete(TesseraStore.key(record.id), in: store.users)
            try txn.delete(TesseraStore.normalized(record.username), in: store.usernames)
            if let email = record.email { try txn.delete(TesseraStore.normalized(email), in: store.emails) }
            if let phone = record.phone { try txn.delete(TesseraStore.normalized(phone), in: store.phones) }
            if !record.validationDigest.isEmpty { try txn.delete(record.validationDigest, in: store.validationCodes) }
            try txn.delete(TesseraStore.accountThrottleKey(record.id), in: store.throttle)
        }
    }

    /// Users in id order, starting after `afterID`, at most `limit` (1–1000).
    public func listUsers(after afterID: UInt64 = 0, limit: Int = 100) throws -> [UserProfile] {
        guard (1...1000).contains(limit) else { throw AuthError.invalidArgument("limit must be between 1 and 1000") }
        guard afterID < .max else { return [] }
        return try store.environment.read { txn in
            var users: [UserProfile] = []
            try txn.forEach(in: store.users, from: TesseraStore.key(afterID &+ 1)) { _, value in
                users.append(try UserRecord(decoding: value).profile)
                return users.count < limit
            }
            return users
        }
    }
}
