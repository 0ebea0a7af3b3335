import LMDBKit
import Logging

/// Rotation and retirement of the token keys.
///
/// A rotation makes a new key active for new tokens; the previous key stays verify-only for
/// ``verifyFor`` (the longest life of anything made under it: a session, a refresh family, a
/// validation code), then the sweeper retires it. Retiring a key by hand refuses at once every
/// token made under it, without touching their records. Each change is one transaction; the
/// daemon swaps in the new ring after the commit, so verifies never pause and never see a ring
/// half changed.
package struct KeyManagement: Sendable {
    let store: TesseraStore
    let configuration: AuthConfiguration
    let clock: any Clock
    let logger: Logger

    /// How long a replaced key of `purpose` keeps verifying, in milliseconds.
    func verifyFor(_ purpose: TokenKey.Purpose) -> Int64 { Self.verifyFor(purpose, configuration) }

    /// How long a key of `purpose` replaced under `configuration` keeps verifying: the longest
    /// life of anything made under it (a session, a refresh family, a validation code; a JWT),
    /// in milliseconds.
    static func verifyFor(_ purpose: TokenKey.Purpose, _ configuration: AuthConfiguration) -> Int64 {
        switch purpose {
        case .tokenDigest:
            Int64(max(configuration.sessionLifetimeSeconds, configuration.refreshLifetimeSeconds, configuration.validationCodeLifetimeSeconds))
                * 1000
        case .jwtSigning: Int64(configuration.jwtLifetimeSeconds) * 1000
        // Everything sealed under the replaced key is re-sealed in the rotation's transaction.
        case .secretSealing: 0
        }
    }

    /// Every key, oldest first; never their material.
    ///
    /// A verify-only digest key retires when its usual time has come and no live API key made
    /// under it remains (``TesseraStore/retireDueKeys(now:in:)``): its `retiresAt` is the later of
    /// the two, or absent (0) while an API key that never expires holds it.
    package func list() throws -> [TokenKeyInfo] {
        let (store, now) = (self.store, clock.now())
        let keys = store.keyRing.keys.map(TokenKeyInfo.init)
        guard keys.contains(where: { $0.state == .verifyOnly && $0.purpose == .tokenDigest }) else { return keys }
        return try store.read { txn in
            try keys.map { key in
                guard key.state == .verifyOnly, key.purpose == .tokenDigest,
                    let held = try store.apiKeysHold(digestKey: key.id, at: now, in: txn), held > key.retiresAt
                else { return key }
                var shown = key
                shown.retiresAt = held == .max ? 0 : held
                return shown
            }
        }
    }

    /// The JWKS (JSON) of the signing keys that may still verify a JWT.
    package func jwks() -> String {
        AccessJWT.jwks(store.keyRing)
    }

    /// Makes a new key active for `purpose`. Returns it.
    package func rotate(_ purpose: TokenKey.Purpose = .tokenDigest) async throws -> TokenKeyInfo {
        let (store, now, verifyFor) = (self.store, clock.now(), self.verifyFor(purpose))
        let ring = try await store.write { txn in try store.rotateKeys(purpose, now: now, verifyFor: verifyFor, in: txn) }
        store.keys.install(ring)
        let key = ring.active(purpose)
        logger.notice("key rotated", metadata: ["key.id": "\(key.id)", "key.purpose": "\(purpose)"])
        return TokenKeyInfo(key)
    }

    /// Retires key `id` now: every token made under it is refused from the next request on.
    /// Retiring the active key makes a new one active first. Returns the key and how many live
    /// sessions it ended.
    package func retire(_ id: UInt16) async throws -> (key: TokenKeyInfo, sessionsEnded: Int) {
        let (store, now, configuration) = (self.store, clock.now(), self.configuration)
        let live = try store.read { txn in try store.countSessions(keyID: id, liveAt: now, in: txn) }
        guard
            let ring = try await store.write({ txn in try store.retireKey(id, now: now, verifyFor: { Self.verifyFor($0, configuration) }, in: txn) })
        else {
            throw AuthError.notFound("key \(id)")
        }
        store.keys.install(ring)
        logger.notice("token key retired", metadata: ["key.id": "\(id)", "sessions.ended": "\(live)"])
        return (TokenKeyInfo(ring.keys.first { $0.id == id }!), live)
    }
}

extension KeyManagement {
    /// Seals every token key under a new master key, written to a new file at `path` (mode
    /// 0600; an existing file is never overwritten), in one transaction. From the commit on,
    /// only the new file opens the data directory: restart the daemon with `--master-key path`.
    /// Returns how many live keys were sealed.
    package func rotateMaster(newKeyFile path: String) async throws -> Int {
        // A relative path would land in the daemon's working directory, wherever that is.
        guard path.hasPrefix("/") else { throw AuthError.invalidArgument("the new master key's path must be absolute, not \(path)") }
        // Nor where the key would be lost at a reboot, or travel with every copy of the data.
        if let refusal = MasterKeyFile.refusal(creating: path, socketDirectory: nil, dataDirectory: store.directory) {
            throw AuthError.invalidArgument("\(refusal)")
        }
        let new = MasterKey.generate()
        do {
            try MasterKeyFile.create(path, new)
        } catch let failure as MasterKeyFile.Failure {
            throw AuthError.invalidArgument("\(failure)")
        }
        store.keys.learn(new)
        let store = self.store
        do {
            let sealed = try await store.write { txn in try store.resealKeys(under: new, in: txn) }
            logger.notice("master key rotated: restart with the new file", metadata: ["master_key.path": "\(path)", "keys.sealed": "\(sealed)"])
            return sealed
        } catch {
            unlink(path)
            throw error
        }
    }
}

/// A key as reported: never its material.
package struct TokenKeyInfo: Sendable, Equatable {
    package var id: UInt16
    package var purpose: TokenKey.Purpose
    package var state: TokenKey.State
    package var createdAt: Timestamp
    package var activatedAt: Timestamp
    package var verifyOnlySince: Timestamp
    package var retiresAt: Timestamp

    init(_ key: TokenKey) {
        id = key.id
        purpose = key.purpose
        state = key.state
        createdAt = key.createdAt
        activatedAt = key.activatedAt
        verifyOnlySince = key.verifyOnlySince
        retiresAt = key.retiresAt
    }
}

#if canImport(Glibc)
import Glibc
#endif
