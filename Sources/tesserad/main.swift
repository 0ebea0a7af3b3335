import ArgumentParser
import CDescriptors
import LMDBKit
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SodiumKit
import TesseraCore
import TesseraServer
import UnixSignals

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct Tesserad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tesserad",
        abstract: "The Tessera session and credential daemon.",
        discussion: """
            Serves the Tessera protocol on a Unix domain socket (mode 0660) and keeps users and sessions \
            in an LMDB environment. With no options it runs on ./tessera.sock with data in ./tessera-data.
            SIGTERM, SIGINT or SIGHUP stops it gracefully: no new connections, in-flight requests finish, the \
            database is closed cleanly. Under a service manager that sets NOTIFY_SOCKET (systemd's Type=notify), \
            it sends READY=1 once the socket accepts connections and STOPPING=1 when it starts to drain.
            """)

    @Option(
        name: .long,
        help: """
            A file of options, one 'name = value' per line (a long option's name without dashes; a quoted string, \
            an integer, or an array for a repeatable option, e.g. app-uid = [33, 1001]; '#' comments). Options on \
            the command line win over the file's.
            """)
    var config: String?

    @Option(name: .long, help: "Path of the Unix domain socket.")
    var socket = "tessera.sock"

    @Option(name: .long, help: "Directory of the LMDB environment (created with mode 0700).")
    var data = "tessera-data"

    @Option(
        name: .customLong("master-key"),
        help: """
            The file of the master key that seals the token keys (mode 0600; keep it out of the data directory and \
            its backups). Created on first start; for a data directory with sealed keys a missing file is an error. \
            Default: tessera-master.key beside the socket.
            """)
    var masterKey: String?

    /// `--master-key`, or `tessera-master.key` in the socket's directory.
    var masterKeyPath: String {
        if let masterKey { return masterKey }
        guard let slash = socket.lastIndex(of: "/") else { return "tessera-master.key" }
        return String(socket[...slash]) + "tessera-master.key"
    }

    @Option(name: .customLong("argon2-ops"), help: "argon2id passes (opslimit). Default: libsodium INTERACTIVE (2).")
    var argon2Ops: UInt64 = PasswordHasher.interactive.opsLimit

    @Option(name: .customLong("argon2-mem-kib"), help: "argon2id memory in KiB (memlimit). Default: libsodium INTERACTIVE (65536).")
    var argon2MemKiB: Int = PasswordHasher.interactive.memLimit / 1024

    @Option(name: .customLong("hash-threads"), help: "Threads hashing passwords, at most one argon2id each. Default: one per core.")
    var hashThreads: Int = TesseraCore.System.coreCount

    @Option(name: .customLong("hash-queue"), help: "Password hashes that may wait for a thread; more get 'busy'.")
    var hashQueue: Int = 64

    @Option(name: .customLong("session-lifetime"), help: "Session lifetime in seconds; a login may ask for less.")
    var sessionLifetime: UInt32 = 24 * 3600

    @Option(name: .customLong("lockout-threshold"), help: "Consecutive failed logins before an account is delayed (0 disables).")
    var lockoutThreshold: UInt32 = 10

    @Option(name: .customLong("lockout-delay"), help: "First lockout delay in seconds; it doubles with each further failure.")
    var lockoutDelay: UInt32 = 30

    @Option(name: .customLong("lockout-max-delay"), help: "Longest lockout delay in seconds.")
    var lockoutMaxDelay: UInt32 = 15 * 60

    @Option(name: .customLong("max-sessions-per-user"), help: "Most sessions one user may hold; a new login ends the oldest (0: no cap).")
    var maximumSessionsPerUser: Int = 0

    @Option(name: .customLong("refresh-lifetime"), help: "Refresh token lifetime in seconds (fixed at login; rotation does not extend it).")
    var refreshLifetime: UInt32 = 30 * 24 * 3600

    @Option(
        name: .customLong("refresh-grace"), help: "Seconds a retired refresh token still returns the pair it was exchanged for (0: no grace window).")
    var refreshGrace: UInt32 = 10

    @Option(
        name: .customLong("rotate-every"),
        help: "Rotate the token key when it has been active this many seconds (0: only by hand, 'tessera keys rotate').")
    var rotateEvery: UInt32 = 0

    @Option(
        name: .customLong("rotate-jwt-every"),
        help: "Rotate the JWT signing key when it has been active this many seconds (0: only by hand). Default: 30 days.")
    var rotateJWTEvery: UInt32 = 30 * 24 * 3600

    @Option(name: .customLong("jwt-lifetime"), help: "Seconds a JWT access token lives (never beyond its session).")
    var jwtLifetime: UInt32 = 3600

    @Option(name: .customLong("jwt-issuer"), help: "The 'iss' claim of JWT access tokens.")
    var jwtIssuer = "tessera"

    @Option(name: .customLong("jwt-audience"), help: "The 'aud' claim of JWT access tokens (none by default).")
    var jwtAudience: String?

    @Option(
        name: .customLong("totp-issuer"),
        help: "The issuer authenticator apps show beside a two-factor account (an enrolment may name another).")
    var totpIssuer = "Tessera"

    @Option(name: .customLong("validation-code-lifetime"), help: "Seconds a validation code works after it was issued.")
    var validationCodeLifetime: UInt32 = 24 * 3600

    @Option(name: .customLong("session-idle-timeout"), help: "Seconds without a verify after which a session ends (0: no idle timeout).")
    var sessionIdleTimeout: UInt32 = 30 * 60

    @Option(name: .customLong("last-seen-interval"), help: "A verify writes a session's last-seen time at most this often, in seconds.")
    var lastSeenInterval: UInt32 = 60

    @Option(name: .customLong("min-password-length"), help: "Shortest password accepted for new users, in bytes.")
    var minimumPasswordLength: Int = 8

    @Option(name: .customLong("sweep-interval"), help: "Seconds between background sweeps of expired sessions and refresh tokens (0: never).")
    var sweepInterval: UInt32 = 10

    @Option(name: .customLong("max-frame"), help: "Largest accepted frame, in bytes.")
    var maximumFrame: UInt32 = 16 * 1024

    @Option(name: .customLong("max-map-mib"), help: "Largest size the database may grow to, in MiB.")
    var maximumMapMiB: Int = 64 * 1024

    @Option(name: .customLong("initial-map-mib"), help: "Map size to start with, in MiB; it doubles when full.")
    var initialMapMiB: Int = 256

    @Option(
        name: [.customLong("socket-threads"), .customLong("event-loop-threads")],
        help:
            "Socket threads (--event-loop-threads is its former name). Default: half the cores (at least one); the web processes on the same host need the rest."
    )
    var socketThreads: Int = max(1, TesseraCore.System.coreCount / 2)

    @Option(
        name: .customLong("admin-uid"),
        help: "A uid whose connections may use every operation (repeatable). Root and the daemon's own uid always may.")
    var adminUIDs: [UInt32] = []

    @Option(name: .customLong("admin-gid"), help: "A group whose members may use every operation (repeatable).")
    var adminGIDs: [UInt32] = []

    @Option(
        name: .customLong("app-uid"),
        help: """
            A uid of a web process (repeatable): it may use the application operations only (sign-up, login, verify, \
            refresh, logout, validate, change password). With no --app-uid and no --app-gid, members of the socket's \
            group are applications. Any other peer is refused at connect.
            """)
    var applicationUIDs: [UInt32] = []

    @Option(name: .customLong("app-gid"), help: "A group whose members are web processes (repeatable).")
    var applicationGIDs: [UInt32] = []

    @Option(name: .customLong("max-connections"), help: "Open connections at most; one more gets a 'busy' frame and is closed.")
    var maximumConnections = 4096

    @Option(
        name: .customLong("connection-idle-timeout"),
        help: "Seconds a connection may receive nothing (with nothing in flight) before it is closed; clients reconnect (0: never).")
    var connectionIdleTimeout: Int64 = 300

    @Option(name: .customLong("frame-timeout"), help: "Seconds a frame may take to arrive whole after its first byte.")
    var frameTimeout: Int64 = 10

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    /// Parses the command line, with the options of `--config FILE` before it, and runs.
    static func main() async {
        do {
            // Before anything opens a descriptor (the configuration file, the socket threads).
            try reserveStandardDescriptors()
            disableCoreDumps()
            // Nothing inherited (a supervisor's pipe, a shell's file) passes on to a program this one starts.
            _ = tessera_mark_inherited_descriptors_close_on_exec()
            let arguments = try ConfigurationFile.expand(Array(CommandLine.arguments.dropFirst())) { path in
                guard let text = ConfigurationFile.read(path) else {
                    throw ValidationError("--config \(path): cannot read the file (\(String(cString: strerror(errno))))")
                }
                return text
            }
            var command = try parseAsRoot(arguments)
            if var asynchronous = command as? any AsyncParsableCommand {
                try await asynchronous.run()
            } else {
                try command.run()
            }
        } catch let error as ConfigurationFile.SyntaxError {
            exit(withError: ValidationError("--config \(error)"))
        } catch {
            exit(withError: error)
        }
    }

    /// The longest connection idle timeout, in seconds.
    static let year: Int64 = 365 * 24 * 3600

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
        guard PasswordHasher(opsLimit: argon2Ops, memLimit: argon2MemKiB * 1024).isValid else {
            throw ValidationError("argon2id needs --argon2-ops >= 1 and --argon2-mem-kib >= 8")
        }
        guard (1...1024).contains(hashThreads), (0...1_000_000).contains(hashQueue) else {
            throw ValidationError("--hash-threads must be between 1 and 1024 and --hash-queue between 0 and 1,000,000")
        }
        guard lockoutDelay >= 1, lockoutMaxDelay >= lockoutDelay else {
            throw ValidationError("--lockout-delay must be at least 1 and at most --lockout-max-delay")
        }
        guard maximumSessionsPerUser >= 0 else { throw ValidationError("--max-sessions-per-user must be 0 or more") }
        guard lastSeenInterval >= 1 else { throw ValidationError("--last-seen-interval must be at least 1 second") }
        guard sessionLifetime >= 1 else { throw ValidationError("--session-lifetime must be at least 1 second") }
        guard (1...1_000_000).contains(maximumConnections) else { throw ValidationError("--max-connections must be between 1 and 1,000,000") }
        guard (1...256).contains(socketThreads) else { throw ValidationError("--socket-threads must be between 1 and 256") }
        // Bounded before use: the socket loop counts in nanoseconds.
        guard (0...Self.year).contains(connectionIdleTimeout), (1...3600).contains(frameTimeout) else {
            throw ValidationError(
                "--connection-idle-timeout must be between 0 and \(Self.year) seconds (a year) and --frame-timeout between 1 and 3600")
        }
        guard jwtLifetime >= 1 else { throw ValidationError("--jwt-lifetime must be at least 1 second") }
        guard validationCodeLifetime >= 1 else { throw ValidationError("--validation-code-lifetime must be at least 1 second") }
        guard (1...1024).contains(minimumPasswordLength) else { throw ValidationError("--min-password-length must be between 1 and 1024") }
        guard (256...(16 << 20)).contains(maximumFrame) else { throw ValidationError("--max-frame must be between 256 bytes and 16 MiB") }
        guard initialMapMiB >= 1, maximumMapMiB >= initialMapMiB else { throw ValidationError("--initial-map-mib must be >= 1 and <= --max-map-mib") }
        guard maximumMapMiB <= 16 << 20 else { throw ValidationError("--max-map-mib must be at most 16 TiB (16777216)") }
    }

    func run() async throws {
        Self.fixLargeAllocationPolicy()
        let level = Logger.Level(rawValue: logLevel)!
        // Lines are written from their own thread (a socket thread never waits for standard
        // error) and each message is rate-limited (a flood of one kind cannot fill the disk).
        let logWriter = LogWriter()
        defer { logWriter.shutdown() }
        let limiter = LogRateLimiter()
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, writer: logWriter, limiter: limiter)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "tesserad")

        var auth = AuthConfiguration()
        auth.passwordHasher = PasswordHasher(opsLimit: argon2Ops, memLimit: argon2MemKiB * 1024)
        auth.hashingThreads = hashThreads
        auth.hashingQueueLimit = hashQueue
        auth.sessionLifetimeSeconds = sessionLifetime
        auth.minimumPasswordLength = minimumPasswordLength
        auth.idleTimeoutSeconds = sessionIdleTimeout
        auth.refreshLifetimeSeconds = refreshLifetime
        auth.refreshGraceSeconds = refreshGrace
        auth.validationCodeLifetimeSeconds = validationCodeLifetime
        auth.keyRotationSeconds = rotateEvery
        auth.jwtKeyRotationSeconds = rotateJWTEvery
        auth.jwtLifetimeSeconds = jwtLifetime
        auth.jwtIssuer = jwtIssuer
        auth.totpIssuer = totpIssuer
        auth.jwtAudience = jwtAudience
        auth.maximumSessionsPerUser = maximumSessionsPerUser
        auth.lastSeenIntervalSeconds = lastSeenInterval
        auth.lockout = LockoutPolicy(threshold: lockoutThreshold, baseDelaySeconds: lockoutDelay, maximumDelaySeconds: lockoutMaxDelay)

        var storage = EnvironmentOptions()
        storage.initialMapSize = initialMapMiB << 20
        storage.maximumMapSize = maximumMapMiB << 20

        let store: TesseraStore
        do {
            let (master, created) = try MasterKeyFile.loadOrCreate(path: masterKeyPath, data: data)
            if created { logger.notice("master key created", metadata: ["master_key.path": "\(masterKeyPath)"]) }
            store = try TesseraStore(directory: data, masterKey: master, options: storage)
        } catch let failure as MasterKeyFile.Failure {
            throw ValidationError("\(failure)")
        } catch {
            throw ValidationError("cannot open the data directory \(data): \(error)")
        }
        let hashingPool = HashingPool(auth)
        let service = AuthService(store: store, configuration: auth, hashingPool: hashingPool, logger: Logger(label: "tessera.auth"))

        var server = ServerConfiguration(socketPath: socket, socketThreads: socketThreads)
        server.maximumFrameLength = maximumFrame
        server.sweepIntervalSeconds = sweepInterval
        server.maximumConnections = maximumConnections
        server.idleTimeoutSeconds = connectionIdleTimeout
        server.frameTimeoutSeconds = frameTimeout
        server.notifySocket = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        if let room = Self.raiseDescriptorLimit(toFit: maximumConnections) {
            logger.warning(
                "the descriptor limit leaves room for fewer connections than --max-connections: connections beyond it get busy",
                metadata: ["connections.room": "\(room)", "connections.maximum": "\(maximumConnections)"])
            server.maximumConnections = room
        }
        try TesseraServer.prepareDescriptorShedding()
        server.peers.adminUIDs = Set(adminUIDs)
        server.peers.adminGIDs = Set(adminGIDs)
        server.peers.applicationUIDs = Set(applicationUIDs)
        server.peers.applicationGIDs = Set(applicationGIDs)
        // Services stop in reverse order: the server drains its connections, then the sweeper
        // stops, then queued hashes and writes finish and LMDB closes.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: StorageService(store: store, hashingPool: hashingPool)),
                    .init(service: SweeperService(sweeper: service.sweeper, intervalSeconds: sweepInterval, logger: logger)),
                    .init(service: TesseraServer(service: service, configuration: server, logger: logger)),
                ],
                // SIGHUP drains like SIGTERM: the log goes to standard error, there is nothing to reopen.
                gracefulShutdownSignals: [.sigterm, .sigint, .sighup],
                logger: logger))
        logger.info(
            "starting",
            metadata: [
                "data.path": "\(data)", "argon2.ops": "\(argon2Ops)", "argon2.mem_kib": "\(argon2MemKiB)",
                "hash.threads": "\(hashThreads)",
            ])
        try await group.run()
    }

    /// Raises the soft descriptor limit to fit `connections` and the daemon's own descriptors,
    /// as far as the hard limit allows; returns the connections the limit leaves room for when
    /// that is fewer than asked.
    static func raiseDescriptorLimit(toFit connections: Int) -> Int? {
        // The daemon's own: standard ones, socket threads, LMDB, the log, the spare, the listener.
        let reserved = 64
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let wanted = rlim_t(connections + reserved)
        guard limit.rlim_cur < wanted else { return nil }
        limit.rlim_cur = min(wanted, limit.rlim_max)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < wanted else { return nil }
        return max(0, Int(limit.rlim_cur) - reserved)
    }

    /// Memory holds keys and passwords in flight: no core file, and no attaching by another
    /// process of the same uid (`PR_SET_DUMPABLE` 0 also makes `/proc/PID` root's).
    static func disableCoreDumps() {
        var none = rlimit(rlim_cur: 0, rlim_max: 0)
        _ = setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &none)
        #if canImport(Glibc)
        // prctl is variadic, so Swift's Glibc module leaves it out; PR_SET_DUMPABLE is 4.
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") {
            _ = unsafeBitCast(symbol, to: Prctl.self)(4, 0, 0, 0, 0)
        }
        #endif
    }

    /// argon2id allocates its whole memlimit for every hash. glibc's dynamic mmap threshold
    /// would serve some of those from a thread's heap (already faulted in) and others from fresh
    /// mappings, so a hash's cost would depend on which thread ran it and what ran before:
    /// a timing signal between "unknown user" and "wrong password". A fixed threshold makes
    /// every large allocation a fresh mapping, so every hash costs the same.
    static func fixLargeAllocationPolicy() {
        #if canImport(Glibc)
        // mallopt is not exported by Swift's Glibc module; look it up. M_MMAP_THRESHOLD is -3.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            _ = unsafeBitCast(symbol, to: Mallopt.self)(-3, 1 << 20)
        }
        #endif
    }

    /// Makes sure fds 0–2 are open (on /dev/null) so no database or socket descriptor can
    /// land on them and receive stray writes meant for standard output or error.
    static func reserveStandardDescriptors() throws {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 {
            try systemCall("open", path: "/dev/null") { open("/dev/null", O_RDWR) }
        }
    }
}
