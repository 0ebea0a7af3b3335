import LMDBKit
import Logging
import TesseraModel

/// "Who is this token?": the per-request hot path.
///
/// The server verifies a whole read burst of tokens in one snapshot (``withSnapshot(_:)``) and
/// then hands the sessions whose last-seen time is due to ``touch(_:at:)``, which writes them in
/// one background commit.
@_spi(TesseraInternal) public struct Verification: Sendable {
    @usableFromInline let store: TesseraStore
    @usableFromInline let touchInterval: Int64
    /// What a JWT's claims must say (the configuration, kept in one object the snapshots
    /// borrow without reference counting).
    @usableFromInline let jwtRules: JWTRules
    let clock: any Clock
    let logger: Logger

    init(store: TesseraStore, configuration: AuthConfiguration, clock: any Clock, logger: Logger) {
        self.store = store
        jwtRules = JWTRules(configuration)
        touchInterval = Int64(configuration.lastSeenIntervalSeconds) * 1000
        self.clock = clock
        self.logger = logger
    }

    /// Runs `body` with a read snapshot: the server verifies a whole batch of tokens in one.
    /// The LMDB snapshot is opened only if a verify needs one (most need only the session index).
    @inlinable
    @_spi(TesseraInternal) public func withSnapshot<R>(_ body: (ReadSnapshot) throws -> R) throws -> R {
        var reader = SnapshotReader(environment: store.environment)
        defer { reader.end() }
        return try withUnsafeMutablePointer(to: &reader) { reader in
            try body(ReadSnapshot(reader: reader, store: store, touchInterval: touchInterval, jwtRules: jwtRules))
        }
    }

    /// Records that the sessions `ids` were used at `now`, extending their idle deadlines. One
    /// commit for the whole batch, and a session is written at most about once per
    /// `lastSeenIntervalSeconds` however often it is verified. Failures are logged, not thrown:
    /// the verifies that asked for the touch have already been answered.
    /// API keys `apiKeys` get their last-used time, at most about once per interval.
    package func touch(_ ids: [SessionID], apiKeys: [APIKeyID] = [], at now: Timestamp) {
        guard !ids.isEmpty || !apiKeys.isEmpty else { return }
        let store = self.store
        let configured = touchInterval
        let logger = self.logger
        store.submit(
            { txn in
                for id in apiKeys {
                    guard var record = try store.apiKeyRecord(id, in: txn), now - record.lastUsedAt >= configured / 2 else { continue }
                    record.lastUsedAt = now
                    try store.replaceAPIKey(id, record, in: txn)
                }
                for id in ids {
                    // Half the interval: a session touched by an earlier batch of the same burst is left alone.
                    guard var record = try store.sessionRecord(id, in: txn), record.deadline() > now,
                        let interval = SessionRecord.touchInterval(configured: configured, idleSeconds: record.idleSeconds),
                        now - record.lastSeen >= interval / 2
                    else {
                        continue
                    }
                    record.lastSeen = now
                    try store.replaceSession(id, record, in: txn)
                }
            },
            completion: { result in
                if case .failure(let error) = result { logger.warning("last-seen update failed", metadata: ["error": "\(error)"]) }
            })
    }

    /// Verifies one token in its own snapshot and copies the result out; records the use
    /// when the session's idle deadline needs extending.
    package func verify(token: String) throws -> VerifiedSessionInfo {
        let now = clock.now()
        var text = token
        let info = try text.withUTF8 { utf8 in
            try withSnapshot { snapshot in
                VerifiedSessionInfo(try snapshot.verify(token: UnsafeRawBufferPointer(utf8), now: now))
            }
        }
        if info.touchDue {
            if info.apiKeyName == nil {
                touch([info.sessionID], at: now)
            } else {
                touch([], apiKeys: [APIKeyID(reinterpreting: info.sessionID)], at: now)
            }
        }
        return info
    }
}

/// The configuration a JWT is checked against.
@usableFromInline final class JWTRules: Sendable {
    let configuration: AuthConfiguration

    init(_ configuration: AuthConfiguration) {
        self.configuration = configuration
    }
}
