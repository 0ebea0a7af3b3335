import LMDBKit
import Locking
import Logging
import Synchronization
import TesseraModel

#if canImport(Glibc)
import Glibc
#endif

/// Tessera's LMDB environment and its named databases.
///
/// | database        | key                                | value                 |
/// |-----------------|------------------------------------|-----------------------|
/// | `users`         | user id (u64 BE)                   | ``UserRecord``        |
/// | `usernames`     | lower-cased username (UTF-8)       | user id (u64 BE)      |
/// | `emails`        | lower-cased email (UTF-8)          | user id (u64 BE)      |
/// | `sessions`      | session id (16 bytes)              | `SessionRecord`       |
/// | `user_sessions` | user id (u64 BE) ‖ session id      | empty                 |
/// | `token_keys`    | key id (u16 BE)                    | ``TokenKey``          |
/// | `refresh_tokens`   | refresh id (16 bytes)           | `RefreshRecord`       |
/// | `refresh_families` | family id (16 bytes)            | `RefreshFamily`       |
/// | `phones`        | phone number (UTF-8, as given)     | user id (u64 BE)      |
/// | `validation_codes` | keyed digest of a code (32)     | user id (u64 BE)      |
/// | `throttle`      | 0x01 ‖ user id, or 0x02 ‖ lower-cased login identifier | ``ThrottleState`` |
/// | `expired_tokens` | 1 (session) or 2 (refresh) ‖ token id | ``ExpiredTokenRecord`` |
/// | `grace_boxes`   | retired_at (i64 BE) ‖ refresh id  | empty: a retired token whose grace box is to be wiped |
/// | `two_factor`    | user id (u64 BE)                   | `TwoFactorRecord`     |
/// | `api_keys`      | API key id (16 bytes)              | `APIKeyRecord`        |
/// | `user_api_keys` | user id (u64 BE) ‖ API key id      | empty                 |
/// | `meta`          | name (UTF-8)                       | per name              |
///
/// Every rule that keeps these databases consistent with each other (a session and its index
/// entry, a user and its unique indexes, a deleted user and everything hanging off it) is one
/// method of this type, in `TesseraStore+Users.swift`, `TesseraStore+Sessions.swift`,
/// `TesseraStore+Throttle.swift`, `TesseraStore+ExpiredTokens.swift`, `TesseraStore+Keys.swift`,
/// `TesseraStore+TwoFactor.swift`, `TesseraStore+APIKeys.swift` and `TesseraStore+ImportedTokens.swift`. The use cases call those and never write a database by hand.
/// Every write goes through ``writer``, the one thread that begins and commits write
/// transactions.
@_spi(TesseraInternal) public final class TesseraStore: Sendable {
    @usableFromInline let environment: Environment
    /// The data directory.
    package var directory: String { environment.path }
    /// The one writer thread: group commit, acknowledgement only after the commit returned.
    let writer: CommitQueue
    let logger: Logger
    let users: Database
    let usernames: Database
    let emails: Database
    let sessions: Database
    let userSessions: Database
    let tokenKeys: Database
    let meta: Database
    let throttle: Database
    let refreshTokens: Database
    let refreshFamilies: Database
    let phones: Database
    let validationCodes: Database
    let expiredTokens: Database
    let graceBoxes: Database
    let twoFactor: Database
    @usableFromInline let apiKeys: Database
    let userAPIKeys: Database
    /// The live sessions in memory, for verify; follows `sessions` commit by commit and is
    /// filled in the background at open (``fillSessionIndex(after:)``).
    let sessionIndex: SessionIndex
    /// Who waits for the fill (``waitForSessionIndex()``).
    let sessionIndexFill = Locked<(started: ContinuousClock.Instant, done: Bool, waiting: [CheckedContinuation<Void, Never>])>(
        (.now, false, []))
    /// The count of users with another system's password hash and the dummies of their costs,
    /// loaded at open and following the commits.
    let foreignPasswords: ForeignPasswords
    /// Whether an import has brought another system's tokens in (``holdsImportedTokens``).
    let importedTokensHeld: Atomic<Bool>
    /// The token keys, loaded at open and swapped whole when they change.
    @usableFromInline let keys: KeyRingHolder
    /// The ring in use now. Take it once per unit of work (a verify batch, a login).
    @usableFromInline var keyRing: TokenKeyRing { keys.current }

    static let nextUserIDKey = Array("next_user_id".utf8)
    static let schemaKey = Array("schema".utf8)
    static let schemaVersion: UInt8 = 1

    /// Opens (creating when absent) the store in `directory`, its token keys sealed under
    /// `masterKey`. Throws ``KeyRingError/wrongMasterKey`` when they were sealed under another,
    /// and `LMDBError.inUse` while another process has the directory open.
    @_spi(TesseraInternal) public init(
        directory: String, masterKey: MasterKey, options: EnvironmentOptions = .init(), clock: any Clock = SystemClock(),
        logger: Logger = Logger(label: "tessera.store")
    ) throws {
        self.logger = logger
        // One writer process per data directory: a second daemon refuses to start.
        var options = options
        options.exclusive = true
        environment = try Environment(path: directory, options: options)
        let databases = try environment.openDatabases([
            "users", "usernames", "emails", "sessions", "user_sessions", "token_keys", "meta", "throttle",
            "refresh_tokens", "refresh_families", "phones", "validation_codes", "expired_tokens",
            "grace_boxes", "two_factor", "api_keys", "user_api_keys",
        ])
        (users, usernames, emails, sessions, userSessions, tokenKeys, meta) =
            (databases[0], databases[1], databases[2], databases[3], databases[4], databases[5], databases[6])
        throttle = databases[7]
        refreshTokens = databases[8]
        refreshFamilies = databases[9]
        phones = databases[10]
        validationCodes = databases[11]
        expiredTokens = databases[12]
        graceBoxes = databases[13]
        twoFactor = databases[14]
        apiKeys = databases[15]
        userAPIKeys = databases[16]
        let (tokenKeys, meta) = (self.tokenKeys, self.meta)
        let ring = try environment.write { txn in
            if let schema = try txn.value(forKey: Self.schemaKey, in: meta) {
                guard schema.first == Self.schemaVersion else {
                    throw AuthError.internal("the data directory holds schema \(schema.first ?? 0); this build reads schema \(Self.schemaVersion)")
                }
            } else {
                try txn.put([Self.schemaVersion], forKey: Self.schemaKey, in: meta)
            }
            return try Self.loadKeyRing(tokenKeys: tokenKeys, meta: meta, master: masterKey, in: txn, now: clock.now())
        }
        keys = KeyRingHolder(ring, master: masterKey)
        let foreign = try environment.read { txn in try Self.foreignPasswords(meta: meta, in: txn) }
        foreignPasswords = ForeignPasswords(foreign)
        importedTokensHeld = Atomic(try environment.read { txn in try Self.importedTokens(meta: meta, in: txn) })
        let sessions = self.sessions
        let sessionCount = try environment.read { txn in try txn.count(of: sessions) }
        guard let sessionIndex = SessionIndex(expected: sessionCount) else {
            throw AuthError.internal("the session index's memory could not be mapped")
        }
        self.sessionIndex = sessionIndex
        // Verifies are answered on the socket threads from read snapshots and never wait for the
        // writer; the writer yields the core to them (an import's bulk batches then take what the
        // verifies leave, as argon2id does at nice 19 on the hashing threads).
        writer = CommitQueue(environment: environment, niceness: Self.writerNiceness)
        fillSessionIndex(after: [])
    }

    /// The writer thread's nice value: below the socket threads (0), above the hashing threads (19).
    static let writerNiceness: Int32 = 10

    /// Finishes queued writes, stops the writer thread and closes the environment. Call after
    /// every reader stopped.
    @_spi(TesseraInternal) public func close() {
        writer.shutdown()
        environment.close()
    }

    /// The LMDB environment, for benchmarks that measure the storage floor beside the domain.
    @_spi(TesseraInternal) public var benchmarkEnvironment: Environment { environment }

    /// The active token key's material, for benchmarks that measure the hashing floor.
    @_spi(TesseraInternal) public var benchmarkActiveKeyMaterial: [UInt8] { keyRing.active.materialForBenchmarks }

    // MARK: Transactions

    /// Runs `body` in a read snapshot on the caller's thread.
    @inlinable
    func read<R>(_ body: (ReadTransaction) throws -> R) throws -> R {
        try environment.read(body)
    }

    /// Runs `work` in a write transaction on the writer thread and returns once its commit is
    /// durable. Domain errors pass through; a full map or disk is ``AuthError/storageFull``;
    /// anything else is logged and reported as ``AuthError/internal(_:)``.
    func write<T: Sendable>(_ work: @escaping @Sendable (WriteTransaction) throws -> T) async throws -> T {
        do {
            return try await writer.write(work)
        } catch let error as AuthError {
            throw error
        } catch LMDBError.storageFull {
            throw AuthError.storageFull
        } catch LMDBError.other(let code) where code == ENOSPC || code == EDQUOT {
            // The disk (or the quota) is full: the same answer as a full map; reads go on.
            logger.warning("write refused: no space left on the device")
            throw AuthError.storageFull
        } catch {
            logger.error("write failed", metadata: ["error": "\(error)"])
            throw AuthError.internal("the write could not be committed")
        }
    }

    /// Queues `work` without waiting (best-effort bookkeeping such as last-seen times).
    func submit(_ work: @escaping @Sendable (WriteTransaction) throws -> Void, completion: @escaping @Sendable (Result<Void, any Error>) -> Void) {
        writer.submit(work, completion: completion)
    }

    // MARK: Keys

    static func key(_ id: UInt64) -> [UInt8] {
        withUnsafeBytes(of: id.bigEndian) { Array($0) }
    }

    /// The value ``key(_:)`` wrote (an id, a count, a position kept in `meta`); `nil` when absent
    /// or not 8 bytes.
    static func uint64(_ bytes: [UInt8]?) -> UInt64? {
        guard let bytes, bytes.count == 8 else { return nil }
        return bytes.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    /// The key of an index entry "user → one of its sessions (or API keys)": the user id, then the 16-byte id.
    static func userSessionKey<Kind>(_ user: UInt64, _ session: Identifier<Kind>) -> [UInt8] {
        key(user) + session.bytes
    }

    static func normalized(_ text: String) -> [UInt8] {
        Array(text.lowercased().utf8)
    }
}
