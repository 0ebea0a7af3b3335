import LMDBKit
import Logging
import Synchronization

/// What one sweep step removed.
public struct SweepResult: Sendable, Equatable {
    public var sessions = 0
    public var refreshTokens = 0
    /// Failed-login entries of unknown identifiers forgotten (``LockoutPolicy/isStale(_:now:)``).
    public var throttleEntries = 0
    /// `true` when the step reached the end of every database it walks (the next step starts over).
    public var wrapped = false
}

/// Removes expired sessions (with their index entries; their refresh families stay), expired
/// refresh tokens and the stale failed-login entries of unknown identifiers, a batch at a time,
/// resuming where the previous step stopped, so the database never grows with dead records (nor
/// with every identifier an attacker tries).
public final class Sweeper: Sendable {
    let store: TesseraStore
    let lockout: LockoutPolicy
    let clock: any Clock
    let logger: Logger
    /// Where the next step resumes: just after the last key looked at in each database.
    private let cursor = Mutex<Cursor>(Cursor())

    private struct Cursor {
        var sessions: [UInt8] = []
        var refreshTokens: [UInt8] = []
        var throttle: [UInt8] = []
    }

    init(store: TesseraStore, lockout: LockoutPolicy, clock: any Clock, logger: Logger) {
        self.store = store
        self.lockout = lockout
        self.clock = clock
        self.logger = logger
    }

    /// Looks at no more than `batch` records of each database and removes the expired ones, in
    /// one commit. A full pass over a million sessions takes a few hundred calls, each a few
    /// milliseconds.
    public func sweep(batch: Int = 5000) async throws -> SweepResult {
        let store = self.store
        let now = clock.now()
        let (start, lockout) = (cursor.withLock { $0 }, self.lockout)
        let (result, next) = try await store.write { txn -> (SweepResult, Cursor) in
            var result = SweepResult()
            var expiredSessions: [(SessionID, UInt64)] = []
            let sessions = try store.scanSessions(from: start.sessions, limit: batch, in: txn) { id, record in
                if record.deadline() <= now { expiredSessions.append((id, record.userID)) }
            }
            for (id, userID) in expiredSessions { try store.removeSession(id, userID: userID, in: txn) }
            result.sessions = expiredSessions.count

            var expiredRefresh: [SessionID] = []
            let refresh = try store.scanRefreshTokens(from: start.refreshTokens, limit: batch, in: txn) { id, record in
                if record.expiresAt <= now { expiredRefresh.append(id) }
            }
            for id in expiredRefresh { try store.removeExpiredRefreshToken(id, in: txn) }
            result.refreshTokens = expiredRefresh.count

            var staleThrottle: [[UInt8]] = []
            let throttle = try store.scanUnknownIdentifierThrottles(from: start.throttle, limit: batch, in: txn) { key, state in
                if lockout.isStale(state, now: now) { staleThrottle.append(key) }
            }
            for key in staleThrottle { try store.removeThrottleState(forKey: key, in: txn) }
            result.throttleEntries = staleThrottle.count

            result.wrapped = sessions.reachedEnd && refresh.reachedEnd && throttle.reachedEnd
            // Resume just after the last key seen (a key one bit larger), or from the start.
            func resume(_ scan: (last: [UInt8], reachedEnd: Bool)) -> [UInt8] { scan.reachedEnd ? [] : scan.last + [0] }
            return (result, Cursor(sessions: resume(sessions), refreshTokens: resume(refresh), throttle: resume(throttle)))
        }
        cursor.withLock { $0 = next }
        if result.sessions + result.refreshTokens + result.throttleEntries > 0 {
            logger.debug(
                "swept",
                metadata: [
                    "sessions": "\(result.sessions)", "refresh_tokens": "\(result.refreshTokens)",
                    "throttle_entries": "\(result.throttleEntries)",
                ])
        }
        return result
    }
}
