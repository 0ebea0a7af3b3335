import Logging

/// The domain: users, passwords, sessions, refresh families, verification. Knows nothing of
/// sockets or frames.
///
/// A composition of use cases over one store, each a small type named after what it does:
///
/// - ``accounts``: sign-up, profiles, states, unlock, delete, list, validation, passwords;
/// - ``sessions``: login, refresh, logout, revocation, listing;
/// - ``verification``: "who is this token?", the per-request hot path;
/// - ``sweeper``: removal of expired sessions and refresh tokens, and of stale failed-login
///   entries of unknown identifiers; retirement of verify-only keys whose time has come;
/// - ``keys``: rotation and retirement of the token keys;
/// - ``twoFactor``: TOTP enrolment, confirmation, recovery codes, disabling;
/// - ``apiKeys``: API keys for machine clients (create, list, revoke, verify).
///
/// Fast operations run on the caller's thread against an LMDB snapshot. Slow ones go
/// elsewhere: argon2id to the ``HashingPool`` handed in, every write to the store's writer
/// thread; their `async` methods return once the write is durable.
@_spi(TesseraInternal) public final class AuthService: Sendable {
    @_spi(TesseraInternal) public let accounts: Accounts
    package let sessions: Sessions
    @_spi(TesseraInternal) public let verification: Verification
    package let sweeper: Sweeper
    package let keys: KeyManagement
    package let twoFactor: TwoFactor
    package let apiKeys: APIKeys
    package let transfers: UserTransfer
    package let configuration: AuthConfiguration
    @_spi(TesseraInternal) public let clock: any Clock
    let store: TesseraStore
    let passwords: PasswordCheck
    let hashingPool: HashingPool

    /// Whether a password check would be taken now (``PasswordCheck/mayStart(from:)``): when
    /// not, an operation that hashes is answered busy before any work starts (a login flood
    /// then costs its requests' decoding, not a task each).
    package func admitsHashing(login: Bool, clientIP: String?) -> Bool {
        passwords.mayStart(from: login ? .login(clientIP: clientIP) : .signedIn)
    }

    /// Composes the use cases over `store`, hashing on `hashingPool`. The caller owns both and
    /// shuts them down (the pool first, then ``TesseraStore/close()``).
    @_spi(TesseraInternal) public init(
        store: TesseraStore, configuration: AuthConfiguration, hashingPool: HashingPool,
        clock: any Clock = SystemClock(), logger: Logger = Logger(label: "tessera.auth")
    ) {
        self.store = store
        self.hashingPool = hashingPool
        self.configuration = configuration
        self.clock = clock
        let passwords = PasswordCheck(store: store, configuration: configuration, hashingPool: hashingPool, clock: clock)
        self.passwords = passwords
        verification = Verification(store: store, configuration: configuration, clock: clock, logger: logger)
        accounts = Accounts(
            store: store, configuration: configuration, passwords: passwords, verification: verification,
            clock: clock, logger: logger)
        let twoFactor = TwoFactor(store: store, configuration: configuration, passwords: passwords, clock: clock, logger: logger)
        self.twoFactor = twoFactor
        apiKeys = APIKeys(
            store: store, verification: verification, twoFactor: twoFactor, clock: clock, logger: logger,
            maximumLifetimeSeconds: configuration.apiKeyMaximumLifetimeSeconds)
        sessions = Sessions(
            store: store, configuration: configuration, passwords: passwords, accounts: accounts, twoFactor: twoFactor, clock: clock,
            logger: logger)
        sweeper = Sweeper(store: store, configuration: configuration, clock: clock, logger: logger)
        keys = KeyManagement(store: store, configuration: configuration, clock: clock, logger: logger)
        transfers = UserTransfer(store: store, clock: clock, logger: logger)
    }
}

extension HashingPool {
    /// A pool sized by `configuration` (threads and queue limit).
    @_spi(TesseraInternal) public convenience init(_ configuration: AuthConfiguration) {
        self.init(threads: configuration.hashingThreads, queueLimit: configuration.hashingQueueLimit)
    }
}
