import Locking
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import TesseraCore
import TesseraProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The daemon's socket server, run as a swift-service-lifecycle `Service`.
///
/// `run()` binds the Unix socket (mode 0660), serves until a graceful shutdown is requested
/// (SIGTERM, SIGINT), then stops accepting, lets every connection finish what is in flight,
/// and removes the socket file. The storage and the sweeper are services of their own
/// (``StorageService``, ``SweeperService``) placed before the server in the same
/// `ServiceGroup`, which stops services in reverse order: the server drains first, the store
/// closes last.
public final class TesseraServer: Service, Sendable {
    private let service: AuthService
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let tracker = ConnectionTracker()
    private let group: any EventLoopGroup
    private let boundPromise: EventLoopPromise<Void>
    private let state = Locked(State.idle)

    /// Where the server is in its life. A server runs once.
    public enum State: Sendable, Equatable {
        /// Created, `run()` not called yet.
        case idle
        /// Binding the socket.
        case starting
        /// Accepting connections.
        case serving
        /// Not accepting; draining the open connections.
        case draining
        /// Returned from `run()`.
        case stopped
    }

    /// The server's current state.
    public var currentState: State { state.withLock { $0 } }

    /// Moves to `next` when the server is in `expected`; `false` otherwise.
    private func transition(from expected: State, to next: State) -> Bool {
        state.withLock { current in
            guard current == expected else { return false }
            current = next
            return true
        }
    }

    /// A server for `service` on `group`'s event loops. The caller owns the group and shuts it
    /// down after the server returned.
    public init(service: AuthService, configuration: ServerConfiguration, eventLoopGroup group: any EventLoopGroup, logger: Logger) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
        self.group = group
        boundPromise = group.next().makePromise()
    }

    /// Completes once the socket is bound and accepting.
    public var bound: EventLoopFuture<Void> { boundPromise.futureResult }

    public func run() async throws {
        guard transition(from: .idle, to: .starting) else {
            throw SocketPathError(description: "this server already ran; create a new one")
        }
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            state.withLock { $0 = .stopped }
            boundPromise.fail(error)
            throw error
        }
        _ = transition(from: .starting, to: .serving)
        boundPromise.succeed()
        logger.info("listening", metadata: ["socket.path": "\(configuration.socketPath)"])
        ServiceManagerNotification.send(.ready, to: configuration.notifySocket)

        // Serve until asked to stop.
        try? await gracefulShutdown()

        _ = transition(from: .serving, to: .draining)
        ServiceManagerNotification.send(.stopping, to: configuration.notifySocket)
        logger.info("shutting down: no new connections, draining \(tracker.count) open ones")
        try? await channel.close()
        await tracker.drain(timeout: .seconds(configuration.drainTimeoutSeconds))
        do {
            try systemCall("unlink", path: configuration.socketPath) { unlink(configuration.socketPath) }
        } catch  where error.reason == .noSuchFile {
            // Someone removed it already: nothing to clean up.
        } catch {
            logger.warning("the socket file could not be removed", metadata: ["error": "\(error)"])
        }
        state.withLock { $0 = .stopped }
        logger.info("stopped serving")
    }

    /// Connections the kernel queues before they are accepted.
    static let backlog: Int32 = 256

    /// The frame a connection gets when it is shed because the process is out of descriptors:
    /// `busy` (retry after 1 s), request id 0, `CLOSING`.
    public static func descriptorLimitFrame() -> [UInt8] {
        var failure = RequestFailure(status: .busy, message: "the server is out of descriptors; retry shortly")
        failure.retryAfterSeconds = 1
        var buffer = ByteBuffer()
        buffer.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: "0000000000000000", closing: true)
        return Array(buffer.readableBytesView)
    }

    private func bind() async throws -> any Channel {
        try SocketPath.prepare(configuration.socketPath)
        let dispatcher = RequestDispatcher(service: service, configuration: configuration)
        let (logger, tracker, policy) = (logger, tracker, configuration.peers)
        let (limits, maximumConnections) = (ConnectionLimits(configuration), configuration.maximumConnections)
        let bootstrap = ServerBootstrap(group: group)
            // Out of descriptors (EMFILE, ENFILE), accepting pauses a second instead of spinning.
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler()) }
            }
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // A client that shuts down its write side still gets the replies it is owed.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                // The peer's class is known before any byte is read: a refused peer costs its socket.
                PeerCredentials.read(from: channel).flatMapThrowing { peer in
                    let admitted = tracker.admit(maximum: maximumConnections)
                    let handler = ConnectionHandler(
                        dispatcher: dispatcher, peer: peer, peerClass: peer.map(policy.classify) ?? .refused, logger: logger,
                        tracker: tracker, connectionID: tracker.makeID(), limits: limits, overLimit: !admitted)
                    do {
                        try channel.pipeline.syncOperations.addHandler(handler)
                    } catch {
                        if admitted { tracker.release() }
                        throw error
                    }
                }
            }
        // The socket file is created with mode 0660: group members (the web processes) may
        // connect, others may not. umask applies to bind(2); restore it straight after.
        // The listening socket is made here, not by NIO, so that it is close-on-exec from the start.
        let previous = umask(0o117)
        let listener: Int32
        do {
            listener = try SocketPath.makeListener(configuration.socketPath, backlog: Self.backlog)
            umask(previous)
        } catch {
            umask(previous)
            throw error
        }
        let channel = try await bootstrap.withBoundSocket(listener).get()
        // NIO listens again with its default backlog (128); restore ours.
        _ = listen(listener, Self.backlog)
        do {
            try systemCall("chmod", path: configuration.socketPath) { chmod(configuration.socketPath, 0o660) }
        } catch {
            try? await channel.close()
            throw error
        }
        return channel
    }
}
