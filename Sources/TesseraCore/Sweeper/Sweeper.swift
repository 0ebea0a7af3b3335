import LMDBKit
import Logging
import Synchronization

/// What one sweep step removed.
public struct SweepResult: Sendable, Equatable {
    public var sessions = 0
    public var refreshTokens = 0
    /// `true` when the step reached the end of both databases (the next step starts over).
    public var wrapped = false
}

/// Removes expired sessions (with their index entries; their refresh families stay) and expired
/// refresh tokens, a batch at a time, resuming where the previous step stopped, so the database
/// never grows with dead records.
public final class Sweeper: Sendable {
    let store: TesseraStore
    let clock: any Clock
    let logger: Logger
    /// Where the next step resumes: just after the last key looked at in each database.
    private let cursor = Mutex<(sessions: [UInt8], refreshTokens: [UInt8])>(([], []))

    init(store: TesseraStore, clock: any Clock, logger: Logger) {
        self.store = store
        self.clock = clock
        self.logger = logger
    }

    /// Looks at no more than `batch` records of each database and removes the expired ones, in
    /// one commit. A full pass over a million sessions takes a few hundred calls, each a few
    /// milliseconds.
    public func sweep(batch: Int = 5000) async throws -> SweepResult {
        let store = self.store
        let now = clock.now()
        let (sessionStart, refreshStart) = cursor.withLock { ($0.sessions, $0.refreshTokens) }
        let (result, nextSession, nextRefresh) = try await store.write { txn -> (SweepResult, [UInt8], [UInt8]) in
            var result = SweepResult()
            var expiredSessions: [(SessionID, UInt64)] = []
            let sessions = try store.scanSessions(from: sessionStart, limit: batch, in: txn) { id, record in
                if record.deadline() <= now { expiredSessions.append((id, record.userID)) }
            }
            for (id, userID) in expiredSessions { try store.removeSession(id, userID: userID, in: txn) }
            result.sessions = expiredSessions.count

            var expiredRefresh: [SessionID] = []
            let refresh = try store.scanRefreshTokens(from: refreshStart, limit: batch, in: txn) { id, record in
                if record.expiresAt <= now { expiredRefresh.append(id) }
            }
            for id in expiredRefresh { try store.removeExpiredRefreshToken(id, in: txn) }
            result.refreshTokens = expiredRefresh.count
            result.wrapped = sessions.reachedEnd && refresh.reachedEnd
            // Resume just after the last key seen (a key one bit larger), or from the start.
            return (result, sessions.reachedEnd ? [] : sessions.last + [0], refresh.reachedEnd ? [] : refresh.last + [0])
        }
        cursor.withLock { $0 = (nextSession, nextRefresh) }
        if result.sessions + result.refreshTokens > 0 {
            logger.debug("swept", metadata: ["sessions": "\(result.sessions)", "refresh_tokens": "\(result.refreshTokens)"])
        }
        return result
    }
}
