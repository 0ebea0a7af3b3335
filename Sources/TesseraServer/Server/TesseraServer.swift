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
/// drains the hashing pool and the commit queue, and closes LMDB.
public final class TesseraServer: Service, Sendable {
    private let service: AuthService
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let tracker = ConnectionTracker()
    private let group: MultiThreadedEventLoopGroup
    private let boundPromise: EventLoopPromise<Void>

    public init(service: AuthService, configuration: ServerConfiguration, logger: Logger) {
        self.service = service
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.eventLoopThreads))
        boundPromise = group.next().makePromise()
    }

    /// Completes once the socket is bound and accepting.
    public var bound: EventLoopFuture<Void> { boundPromise.futureResult }

    public func run() async throws {
        let channel: any Channel
        do {
            channel = try await bind()
        } catch {
            boundPromise.fail(error)
            try? await group.shutdownGracefully()
            service.shutdown()
            throw error
        }
        boundPromise.succeed()
        logger.info("listening", metadata: ["socket.path": "\(configuration.socketPath)"])
        let sweeper = startSweeper()

        // Serve until asked to stop.
        try? await gracefulShutdown()
        sweeper?.cancel()
        _ = await sweeper?.result

        logger.info("shutting down: no new connections, draining \(tracker.count) open ones")
        try? await channel.close()
        await tracker.drain(timeout: .seconds(configuration.drainTimeoutSeconds))
        service.shutdown()
        try? await group.shutdownGracefully()
        unlink(configuration.socketPath)
        logger.info("stopped")
    }

    /// Removes expired sessions and refresh tokens a batch at a time, in the background.
    private func startSweeper() -> Task<Void, Never>? {
        let interval = UInt64(configuration.sweepIntervalSeconds)
        guard interval > 0 else { return nil }
        let (service, logger) = (self.service, self.logger)
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: interval * 1_000_000_000)
                guard !Task.isCancelled else { return }
                do {
                    _ = try await service.sweep()
                } catch {
                    logger.warning("sweep failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func bind() async throws -> any Channel {
        try SocketPath.prepare(configuration.socketPath)
        let dispatcher = RequestDispatcher(service: service, configuration: configuration)
        let (clock, logger, tracker) = (service.clock, logger, tracker)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ConnectionHandler(dispatcher: dispatcher, clock: clock, logger: logger,
                                                    tracker: tracker, connectionID: tracker.makeID())
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        // The socket file is created with mode 0660: group members (the web processes) may
        // connect, others may not. umask applies to bind(2); restore it straight after.
        let previous = umask(0o117)
        defer { umask(previous) }
        let channel = try await bootstrap.bind(unixDomainSocketPath: configuration.socketPath, cleanupExistingSocketFile: false).get()
        chmod(configuration.socketPath, 0o660)
        return channel
    }
}
