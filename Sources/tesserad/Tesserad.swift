import ArgumentParser
import CDescriptors
import LMDBKit
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SodiumKit
@_spi(TesseraInternal) import TesseraCore
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

    @OptionGroup(title: "Socket and connections") var socket: SocketOptions
    @OptionGroup(title: "User and group") var identity: IdentityOptions
    @OptionGroup(title: "Peers") var peers: PeerOptions
    @OptionGroup(title: "Storage") var storage: StorageOptions
    @OptionGroup(title: "Passwords") var passwords: PasswordOptions
    @OptionGroup(title: "Sessions") var sessions: SessionOptions
    @OptionGroup(title: "Keys and tokens") var keys: KeyOptions

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
            if let daemon = command as? Tesserad {
                // On the main thread, before the first hop: a thread that is not there when the
                // ids change keeps root (the main thread, once the runtime parks it, is skipped
                // by glibc's change of every thread's ids).
                try await daemon.run(startingWith: try daemon.bindSocketAndBecomeServiceAccount())
            } else if var asynchronous = command as? any AsyncParsableCommand {
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

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level '\(logLevel)'") }
    }

    /// What the daemon does as it was started (root, maybe) before anything else: the socket,
    /// bound; then, with `--user`, the service account for good.
    struct Startup {
        var listener: ListeningSocket
        var identity: ProcessIdentity?
    }

    /// Binds the socket and, with `--user`, becomes the service account, checking that no
    /// thread kept the ids it started with.
    func bindSocketAndBecomeServiceAccount() throws -> Startup {
        let becoming = try identity.identity()
        if becoming != nil {
            do { try ProcessIdentity.checkStartedAsRoot() } catch { throw ValidationError("\(error)") }
        }
        let listener: ListeningSocket
        do {
            listener = try ListeningSocket.bind(path: socket.socket, group: try identity.socketGID(becoming: becoming))
        } catch let error as SocketPathError {
            throw ValidationError(error.description)
        }
        if let becoming {
            do {
                try ProcessIdentity.assume(becoming)
            } catch {
                listener.abandon()
                throw ValidationError("\(error)")
            }
        }
        return Startup(listener: listener, identity: becoming)
    }

    func run() async throws {
        try await run(startingWith: try bindSocketAndBecomeServiceAccount())
    }

    func run(startingWith startup: Startup) async throws {
        let listener = startup.listener
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
        if let identity = startup.identity {
            logger.info("running as \(identity)", metadata: ["socket.group": "\(listener.group)"])
        } else if geteuid() == 0 {
            logger.warning("running as root: pass --user (and --group) to run as a service account once the socket is bound")
        }

        var auth = AuthConfiguration()
        passwords.apply(to: &auth)
        sessions.apply(to: &auth)
        keys.apply(to: &auth)
        peers.apply(to: &auth)

        let store: TesseraStore
        let (data, masterKeyPath) = (storage.data, storage.masterKeyPath)
        do {
            if storage.masterKey == nil {
                try Self.moveFormerDefaultMasterKey(from: storage.formerDefaultMasterKeyPath(socket: socket.socket), to: masterKeyPath, logger)
            }
            let socketDirectory = MasterKeyFile.directory(of: socket.socket)
            let (master, created) = try MasterKeyFile.loadOrCreate(path: masterKeyPath, data: data, socketDirectory: socketDirectory)
            if created { logger.notice("master key created", metadata: ["master_key.path": "\(masterKeyPath)"]) }
            for warning in MasterKeyFile.warnings(for: masterKeyPath) { logger.warning("\(warning)") }
            store = try TesseraStore(directory: data, masterKey: master, options: storage.environment)
            for warning in DataDirectoryPermissions.warnings(for: data) { logger.warning("\(warning)") }
        } catch let failure as MasterKeyFile.Failure {
            listener.abandon()
            throw ValidationError("\(failure)")
        } catch {
            listener.abandon()
            throw ValidationError("cannot open the data directory \(data): \(error)")
        }
        let hashingPool = HashingPool(auth)
        let service = AuthService(store: store, configuration: auth, hashingPool: hashingPool, logger: Logger(label: "tessera.auth"))

        var server = ServerConfiguration(socketPath: socket.socket, socketThreads: socket.socketThreads)
        socket.apply(to: &server)
        storage.apply(to: &server)
        peers.apply(to: &server)
        server.peers.socketGID = listener.group
        server.peers.daemonUID = getuid()
        server.notifySocket = getenv("NOTIFY_SOCKET").map { String(cString: $0) }
        if let room = Self.raiseDescriptorLimit(toFit: server.maximumConnections) {
            logger.warning(
                "the descriptor limit leaves room for fewer connections than --max-connections: connections beyond it get busy",
                metadata: ["connections.room": "\(room)", "connections.maximum": "\(server.maximumConnections)"])
            server.maximumConnections = room
        }
        try TesseraServer.prepareDescriptorShedding()
        // Services stop in reverse order: the server drains its connections, then the sweeper
        // stops, then queued hashes and writes finish and LMDB closes.
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: StorageService(store: store, hashingPool: hashingPool)),
                    .init(service: SweeperService(sweeper: service.sweeper, intervalSeconds: storage.sweepInterval, logger: logger)),
                    .init(service: TesseraServer(service: service, listener: listener, configuration: server, logger: logger)),
                ],
                // SIGHUP drains like SIGTERM: the log goes to standard error, there is nothing to reopen.
                gracefulShutdownSignals: [.sigterm, .sigint, .sighup],
                logger: logger))
        logger.info(
            "starting",
            metadata: [
                "data.path": "\(data)", "argon2.ops": "\(passwords.argon2Ops)", "argon2.mem_kib": "\(passwords.argon2MemKiB)",
                "hash.threads": "\(passwords.hashThreads)",
            ])
        try await group.run()
    }

    /// Raises the soft descriptor limit to fit `connections` and the daemon's own descriptors,
    /// as far as the hard limit allows; returns the connections the limit leaves room for when
    /// that is fewer than asked.
    /// A master key made by default beside the socket (before the default moved beside the data
    /// directory) is moved to the new default, once, while it still exists: the socket's
    /// directory is emptied at boot, and the data is unreadable without the key.
    static func moveFormerDefaultMasterKey(from former: String, to path: String, _ logger: Logger) throws {
        guard former != path, access(path, F_OK) != 0, access(former, F_OK) == 0, let key = try MasterKeyFile.load(former) else { return }
        try MasterKeyFile.create(path, key)
        unlink(former)
        logger.notice(
            "master key moved beside the data directory: the socket's directory does not outlive a reboot",
            metadata: ["master_key.path": "\(path)", "master_key.former_path": "\(former)"])
    }

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
