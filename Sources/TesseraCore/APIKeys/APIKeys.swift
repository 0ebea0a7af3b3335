import LMDBKit
import Logging
import SodiumKit
import TesseraModel

/// An API key as reported: never its secret.
package struct APIKeyInfo: Sendable, Equatable {
    package var id: APIKeyID
    package var userID: UInt64
    package var name: String
    /// The first characters of the key (`tsk_` and 8 more): enough to recognize it, nothing of
    /// its secret.
    package var prefix: String
    package var createdAt: Timestamp
    /// `nil`: never expires.
    package var expiresAt: Timestamp?
    /// `nil`: never used.
    package var lastUsedAt: Timestamp?
    /// `nil`: not revoked.
    package var revokedAt: Timestamp?
    package var permissions: [String]

    init(id: APIKeyID, _ record: APIKeyRecord) {
        self.id = id
        userID = record.userID
        name = record.name
        prefix = APIKeys.prefix(id: id, digestKeyID: record.keyID)
        createdAt = record.createdAt
        expiresAt = record.expiresAt == 0 ? nil : record.expiresAt
        lastUsedAt = record.lastUsedAt == 0 ? nil : record.lastUsedAt
        revokedAt = record.revokedAt == 0 ? nil : record.revokedAt
        permissions = record.permissions
    }
}

/// What a new key is: its name, its lifetime, its permissions.
package struct NewAPIKey: Sendable, Equatable {
    package var name: String
    /// `nil`: never expires.
    package var lifetimeSeconds: UInt32?
    /// Each must be one of the user's roles.
    package var permissions: [String]

    package init(name: String, lifetimeSeconds: UInt32? = nil, permissions: [String] = []) {
        self.name = name
        self.lifetimeSeconds = lifetimeSeconds
        self.permissions = permissions
    }
}

/// API keys: long-lived credentials a user (or an administrator for them) makes for machine
/// clients, each with a name, an optional expiry and permissions among the user's roles.
///
/// The key (`tsk_…`, ``APIKeyCredential``) is returned once; the store keeps its keyed digest.
/// Verifying one is the same work as verifying a session token (VERIFY accepts both), and its
/// last use is recorded in the same batched way as a session's last-seen time. Revoked and
/// expired keys are refused with distinct codes (`token-revoked`, `token-expired`). Disabling the
/// account revokes every key; deleting the user removes them; narrowing the user's roles narrows
/// every key's permissions.
package struct APIKeys: Sendable {
    let store: TesseraStore
    let verification: Verification
    /// The re-authentication of self-service creation.
    let twoFactor: TwoFactor
    let clock: any Clock
    let logger: Logger
    /// `--api-key-max-lifetime`: 0, none.
    let maximumLifetimeSeconds: UInt32

    /// The most keys a user may hold, revoked ones included (revoke all, or delete the user,
    /// to start again): a listing stays one reply.
    package static let maximumPerUser = 100
    static let maximumName = 64
    static let maximumPermissions = 32

    /// Makes a key for the user `lookup` names. Returns the key's text (shown once) and the key.
    /// With a maximum lifetime, a key asked for without one gets the maximum and a longer one is
    /// `invalid-argument`.
    ///
    /// `proof`: the user's re-authentication (see ``TwoFactor/write(_:reauthenticatedBy:_:)``),
    /// which a web process must send: a key outlives the session that made it. `nil` from an
    /// administrator.
    package func create(
        _ lookup: UserLookup, _ new: NewAPIKey, reauthenticatedBy proof: Reauthentication? = nil
    ) async throws -> (key: String, info: APIKeyInfo) {
        guard !new.name.isEmpty else { throw AuthError.invalidArgument("an API key needs a name") }
        try Validation.printable(new.name, field: "name", maximum: Self.maximumName)
        guard new.permissions.count <= Self.maximumPermissions else {
            throw AuthError.invalidArgument("an API key has at most \(Self.maximumPermissions) permissions")
        }
        if let lifetime = new.lifetimeSeconds, lifetime == 0 { throw AuthError.invalidArgument("lifetime_seconds must be at least 1") }
        let maximum = maximumLifetimeSeconds
        if maximum > 0, let lifetime = new.lifetimeSeconds, lifetime > maximum {
            throw AuthError.invalidArgument("lifetime_seconds is longer than this server allows for an API key (\(maximum) s)")
        }
        let lifetime = new.lifetimeSeconds ?? (maximum > 0 ? maximum : nil)
        let (store, now) = (self.store, clock.now())
        let digestKey = store.keyRing.active
        let token = SessionToken.generate(keyID: digestKey.id, kind: APIKeyCredential.version, now: now)
        let permissions = Array(Set(new.permissions)).sorted()
        let (id, record) = try await twoFactor.write(lookup, reauthenticatedBy: proof) { user, txn in
            switch user.state {
            case .active: break
            case .unvalidated: throw AuthError.accountNotValidated
            case .disabled: throw AuthError.inactiveAccount
            }
            if let outside = permissions.first(where: { !user.roles.contains($0) }) {
                throw AuthError.invalidArgument(
                    "permission '\(outside)' is not a role of the user: an API key's permissions are among its user's roles")
            }
            guard try store.apiKeyIDs(ofUser: user.id, in: txn).count < Self.maximumPerUser else {
                throw AuthError.conflict("the user has \(Self.maximumPerUser) API keys, the most a user may hold")
            }
            let record = APIKeyRecord(
                userID: user.id, createdAt: now, expiresAt: lifetime.map { now + Int64($0) * 1000 } ?? 0, keyID: digestKey.id,
                digest: token.digest(with: digestKey), permissions: permissions, name: new.name)
            try store.insertAPIKey(APIKeyID(reinterpreting: token.sessionID), record, in: txn)
            return (APIKeyID(reinterpreting: token.sessionID), record)
        }
        logger.info("API key created", metadata: ["user.id": "\(record.userID)", "api_key.id": "\(id)"])
        return (APIKeyCredential.text(token), APIKeyInfo(id: id, record))
    }

    /// Every key of a user, oldest first, never a secret; asked by an API key (`seenBy`), only
    /// that key.
    package func list(_ lookup: UserLookup, seenBy key: APIKeyID? = nil) throws -> [APIKeyInfo] {
        try store.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return try store.apiKeys(ofUser: user.id, seenBy: key, in: txn)
        }
    }

    /// Revokes one key: refused from the next verify on. With `owner`, only a key of that user
    /// (another's is `not-found`, as an unknown one). Revoking a revoked key changes nothing.
    @discardableResult
    package func revoke(_ id: APIKeyID, ofUser owner: UInt64? = nil) async throws -> APIKeyInfo {
        let (store, now) = (self.store, clock.now())
        let record = try await store.write { txn in
            guard var record = try store.apiKeyRecord(id, in: txn), owner == nil || record.userID == owner else {
                throw AuthError.notFound("API key")
            }
            if record.revokedAt == 0 {
                record.revokedAt = now
                try store.replaceAPIKey(id, record, in: txn)
            }
            return record
        }
        logger.info("API key revoked", metadata: ["user.id": "\(record.userID)", "api_key.id": "\(id)"])
        return APIKeyInfo(id: id, record)
    }

    /// Revokes every key of a user. Returns how many were live.
    package func revokeAll(_ lookup: UserLookup) async throws -> Int {
        let (store, now) = (self.store, clock.now())
        return try await store.write { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return try store.revokeEveryAPIKey(ofUser: user.id, at: now, in: txn)
        }
    }

    /// Verifies an API key (and nothing else: a session token is `token-invalid` here).
    package func verify(key: String) throws -> VerifiedSessionInfo {
        guard key.utf8.count == APIKeyCredential.textLength, key.hasPrefix("tsk_") else { throw AuthError.tokenInvalid }
        return try verification.verify(token: key)
    }

    /// The first characters of a key's text, from its public parts alone.
    static func prefix(id: APIKeyID, digestKeyID: UInt16) -> String {
        let head = [APIKeyCredential.version, UInt8(digestKeyID >> 8), UInt8(digestKeyID & 0xff)] + Array(id.bytes.prefix(3))
        return "tsk_" + Base64URL.encode(head)
    }
}
