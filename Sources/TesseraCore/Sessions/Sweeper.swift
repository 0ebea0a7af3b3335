import LMDBKit
import Synchronization

/// What one sweep step removed.
public struct SweepResult: Sendable, Equatable {
    public var sessions = 0
    public var refreshTokens = 0
    /// `true` when the step reached the end of both databases (the next step starts over).
    public var wrapped = false
}

/// Where the sweeper resumes: the last key it looked at in each database.
final class SweepCursor: Sendable {
    let sessions = Mutex<[UInt8]>([])
    let refreshTokens = Mutex<[UInt8]>([])
}

extension AuthService {
    /// Removes expired sessions (with their index entries and refresh families) and expired
    /// refresh tokens, looking at no more than `batch` records of each database per call, in
    /// one commit. Called periodically; a full pass over a million sessions takes a few hundred
    /// calls, each a few milliseconds, so the database never grows with dead records.
    public func sweep(batch: Int = 5000) async throws -> SweepResult {
        let store = self.store
        let now = clock.now()
        let cursor = sweepCursor
        let sessionStart = cursor.sessions.withLock { $0 }
        let refreshStart = cursor.refreshTokens.withLock { $0 }
        let (result, nextSession, nextRefresh) = try await commit { txn -> (SweepResult, [UInt8], [UInt8]) in
            var result = SweepResult()
            var expiredSessions: [(SessionID, UInt64)] = []
            var lastSession: [UInt8] = []
            var seen = 0
            try txn.forEach(in: store.sessions, from: sessionStart) { key, value in
                seen += 1
                lastSession = Array(key)
                if let record = try? SessionRecord(decoding: value), record.deadline() <= now, key.count == 16 {
                    expiredSessions.append((SessionID(raw: key), record.userID))
                }
                return seen < batch
            }
            let sessionsDone = seen < batch
            for (id, userID) in expiredSessions {
                try store.removeExpiredSession(id, userID: userID, in: txn)
                result.sessions += 1
            }

            var expiredRefresh: [[UInt8]] = []
            var lastRefresh: [UInt8] = []
            seen = 0
            try txn.forEach(in: store.refreshTokens, from: refreshStart) { key, value in
                seen += 1
                lastRefresh = Array(key)
                if let record = try? RefreshRecord(decoding: value), record.expiresAt <= now { expiredRefresh.append(Array(key)) }
                return seen < batch
            }
            let refreshDone = seen < batch
            for key in expiredRefresh {
                guard let id = SessionID(bytes: key) else { continue }
                if let record = try store.refreshRecord(id, in: txn),
                   let family = try store.refreshFamily(record.familyID, in: txn), family.current == id {
                    // The family's live token expired: the family ends with it.
                    try txn.delete(record.familyID.bytes, in: store.refreshFamilies)
                }
                try txn.delete(key, in: store.refreshTokens)
                result.refreshTokens += 1
            }
            result.wrapped = sessionsDone && refreshDone
            // Resume just after the last key seen (a key one bit larger), or from the start.
            return (result, sessionsDone ? [] : lastSession + [0], refreshDone ? [] : lastRefresh + [0])
        }
        cursor.sessions.withLock { $0 = nextSession }
        cursor.refreshTokens.withLock { $0 = nextRefresh }
        if result.sessions + result.refreshTokens > 0 {
            logger.debug("swept", metadata: ["sessions": "\(result.sessions)", "refresh_tokens": "\(result.refreshTokens)"])
        }
        return result
    }
}
