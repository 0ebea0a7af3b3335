import LMDBKit
import Locking
import Logging
import TesseraModel

/// What one sweep step removed.
package struct SweepResult: Sendable, Equatable {
    package var sessions = 0
    package var refreshTokens = 0
    /// Grace boxes of retired refresh tokens wiped once their window ended.
    package var graceBoxes = 0
    /// Failed-login entries of unknown identifiers forgotten (``LockoutPolicy/isStale(_:now:)``).
    package var throttleEntries = 0
    /// Expired tokens forgotten, the refresh lifetime after their expiry.
    package var expiredTokens = 0
    /// Verify-only token keys retired because nothing made under them can still be alive.
    package var keysRetired = 0
    /// The purposes whose key was rotated because it had been active for the configured time.
    package var keysRotated: [TokenKey.Purpose] = []
    /// `true` when the step reached the end of every database it walks (the next step starts over).
    package var wrapped = false
}

/// Removes expired sessions (with their index entries; their refresh families stay) and expired
/// refresh tokens, remembering each as expired for the refresh lifetime (so its holder hears
/// `token-expired`, not `token-invalid`); wipes the grace boxes of retired refresh tokens once
/// their window ended; forgets the stale failed-login entries of unknown identifiers. A batch at
/// a time, resuming where the previous step stopped, so the database never grows with dead
/// records (nor with every identifier an attacker tries).
package final class Sweeper: Sendable {
    let store: TesseraStore
    let configuration: AuthConfiguration
    let clock: any Clock
    let logger: Logger
    /// Where the next step resumes: just after the last key looked at in each database.
    private let cursor = Locked<Cursor>(Cursor())

    private struct Cursor {
        var sessions: [UInt8] = []
        var refreshTokens: [UInt8] = []
        var throttle: [UInt8] = []
        var expiredTokens: [UInt8] = []
    }

    init(store: TesseraStore, configuration: AuthConfiguration, clock: any Clock, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
    }

    /// Looks at no more than `batch` records of each database and removes the expired ones, in
    /// one commit. A full pass over a million sessions takes a few hundred calls, each a few
    /// milliseconds.
    package func sweep(batch: Int = 5000) async throws -> SweepResult {
        let store = self.store
        let now = clock.now()
        // Reader slots left by killed processes would pin old pages and grow the file.
        let staleReaders = try store.environment.clearStaleReaders()
        if staleReaders > 0 { logger.notice("reader slots of dead processes cleared", metadata: ["readers": "\(staleReaders)"]) }
        let (start, configuration) = (cursor.withLock { $0 }, self.configuration)
        let grace = Int64(configuration.refreshGraceSeconds) * 1000
        let schedule: [(TokenKey.Purpose, Int64)] = [
            (.tokenDigest, Int64(configuration.keyRotationSeconds) * 1000), (.jwtSigning, Int64(configuration.jwtKeyRotationSeconds) * 1000),
        ]
        let memory = Int64(configuration.refreshLifetimeSeconds) * 1000
        let (result, next, ring) = try await store.write { txn -> (SweepResult, Cursor, TokenKeyRing?) in
            var result = SweepResult()
            var ring = try store.retireDueKeys(now: now, in: txn).map { retirement in
                result.keysRetired = retirement.retired
                return retirement.ring
            }
            for (purpose, every) in schedule where every > 0 {
                let current = ring ?? store.keyRing
                let active = current.active(purpose)
                guard active.activatedAt + every <= now else { continue }
                ring = try store.rotateKeys(purpose, now: now, verifyFor: KeyManagement.verifyFor(purpose, configuration), in: txn)
                result.keysRotated.append(purpose)
            }
            var expiredSessions: [(SessionID, SessionRecord)] = []
            let sessions = try store.scanSessions(from: start.sessions, limit: batch, in: txn) { id, record in
                if record.deadline() <= now { expiredSessions.append((id, record)) }
            }
            for (id, record) in expiredSessions { try store.removeExpiredSession(id, record, in: txn) }
            result.sessions = expiredSessions.count

            var expiredRefresh: [SessionID] = []
            var graceEnded: [(SessionID, RefreshRecord)] = []
            let refresh = try store.scanRefreshTokens(from: start.refreshTokens, limit: batch, in: txn) { id, record in
                if record.expiresAt <= now {
                    expiredRefresh.append(id)
                } else if !record.graceBox.isEmpty, now - record.retiredAt > grace {
                    graceEnded.append((id, record))
                }
            }
            for id in expiredRefresh { try store.removeExpiredRefreshToken(id, in: txn) }
            // Boxes this batch met past their window, then every due box in time order (each
            // step, so a box outlives its window by at most one sweep interval).
            for (id, record) in graceEnded { try store.wipeGraceBox(id, record, in: txn) }
            result.graceBoxes = graceEnded.count
            result.graceBoxes += try store.wipeGraceBoxes(retiredBy: now - grace - 1, limit: batch, in: txn)
            result.refreshTokens = expiredRefresh.count

            var staleThrottle: [[UInt8]] = []
            let throttle = try store.scanIdentifierThrottles(from: start.throttle, limit: batch, in: txn) { key, state in
                if configuration.lockout.isStale(state, now: now) { staleThrottle.append(key) }
            }
            for key in staleThrottle { try store.removeThrottleState(forKey: key, in: txn) }
            result.throttleEntries = staleThrottle.count

            var forgotten: [[UInt8]] = []
            let remembered = try store.scanExpiredTokens(from: start.expiredTokens, limit: batch, in: txn) { key, expiredAt in
                if expiredAt + memory <= now { forgotten.append(key) }
            }
            for key in forgotten { try store.forgetExpiredToken(key, in: txn) }
            result.expiredTokens = forgotten.count

            result.wrapped = sessions.reachedEnd && refresh.reachedEnd && throttle.reachedEnd && remembered.reachedEnd
            // Resume just after the last key seen (a key one bit larger), or from the start.
            func resume(_ scan: (last: [UInt8], reachedEnd: Bool)) -> [UInt8] { scan.reachedEnd ? [] : scan.last + [0] }
            return (
                result,
                Cursor(
                    sessions: resume(sessions), refreshTokens: resume(refresh), throttle: resume(throttle),
                    expiredTokens: resume(remembered)),
                ring
            )
        }
        cursor.withLock { $0 = next }
        if let ring {
            store.keys.install(ring)
            if result.keysRetired > 0 {
                logger.notice("token keys retired: nothing made under them can still be alive", metadata: ["keys.retired": "\(result.keysRetired)"])
            }
            for purpose in result.keysRotated { logger.notice("key rotated on schedule", metadata: ["key.purpose": "\(purpose)"]) }
        }
        if result.sessions + result.refreshTokens + result.graceBoxes + result.throttleEntries + result.expiredTokens > 0 {
            logger.debug(
                "swept",
                metadata: [
                    "sessions": "\(result.sessions)", "refresh_tokens": "\(result.refreshTokens)",
                    "grace_boxes": "\(result.graceBoxes)", "throttle_entries": "\(result.throttleEntries)",
                    "expired_tokens": "\(result.expiredTokens)",
                ])
        }
        return result
    }
}
