import LMDBKit
import TesseraModel

extension TesseraStore {
    /// Writes `count` live sessions for user `userID` straight into the store, many per
    /// transaction: the fast path that seeds benchmark data sets (a million logins would spend
    /// hours in argon2id). Calls `token` with each session's token text.
    ///
    /// Use on a store no daemon has open. The sessions have no idle timeout (so a benchmark
    /// measures verify, not last-seen writes); otherwise verify and logout treat them like any other.
    ///
    /// Each session is made at `clock`'s time when it is generated, as logins are: session ids
    /// begin with that time, so the data set has the time-ordered ids (and the dense, right-edge
    /// B-tree pages) a running daemon builds. One timestamp for a million ids would make them
    /// random within it, and the tree sparse and slower.
    @_spi(TesseraInternal) public func bulkLoadSessions(
        count: Int, userID: UInt64, lifetimeSeconds: UInt32, clock: any Clock,
        transactionSize: Int = 20_000, token: (String) -> Void
    ) throws {
        guard let user = try environment.read({ txn in try self.user(id: userID, in: txn) }) else {
            throw AuthError.notFound("user \(userID)")
        }
        let key = keyRing.active
        var remaining = count
        while remaining > 0 {
            let batch = min(remaining, transactionSize)
            var tokens: [(SessionToken, Timestamp)] = []
            tokens.reserveCapacity(batch)
            for _ in 0..<batch {
                let now = clock.now()
                tokens.append((SessionToken.generate(keyID: key.id, now: now), now))
            }
            try environment.write { txn in
                for (generated, now) in tokens {
                    let record = SessionRecord(
                        userID: user.id, createdAt: now, expiresAt: now + Int64(lifetimeSeconds) * 1000,
                        keyID: key.id, digest: generated.digest(with: key), idleSeconds: 0, roles: user.roles,
                        clientIP: nil, userAgent: "bulk-load")
                    try insertSession(generated.sessionID, record, in: txn)
                }
            }
            for (generated, _) in tokens { token(generated.text) }
            remaining -= batch
        }
    }

    /// Writes `count` API keys for user `userID` straight into the store (no expiry, the user's
    /// roles as permissions), many per transaction, past the per-user cap a daemon enforces: the
    /// data set for the API-key verify benchmark. Calls `key` with each key's text.
    @_spi(TesseraInternal) public func bulkLoadAPIKeys(
        count: Int, userID: UInt64, clock: any Clock, transactionSize: Int = 20_000, key: (String) -> Void
    ) throws {
        guard let user = try environment.read({ txn in try self.user(id: userID, in: txn) }) else {
            throw AuthError.notFound("user \(userID)")
        }
        let digestKey = keyRing.active
        var remaining = count
        while remaining > 0 {
            let batch = min(remaining, transactionSize)
            let tokens = (0..<batch).map { _ in
                let now = clock.now()
                return (SessionToken.generate(keyID: digestKey.id, kind: APIKeyCredential.version, now: now), now)
            }
            try environment.write { txn in
                for (generated, now) in tokens {
                    let record = APIKeyRecord(
                        userID: user.id, createdAt: now, expiresAt: 0, keyID: digestKey.id, digest: generated.digest(with: digestKey),
                        permissions: user.roles, name: "bulk-load")
                    try insertAPIKey(APIKeyID(reinterpreting: generated.sessionID), record, in: txn)
                }
            }
            for (generated, _) in tokens { key(APIKeyCredential.text(generated)) }
            remaining -= batch
        }
    }
}
