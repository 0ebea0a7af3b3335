import CEventPoll
import Locking
import Logging
import NIOCore
import ServiceLifecycle
@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The daemon's socket server, run as a swift-service-lifecycle `Service`.
///
/// `run()` serves the socket bound before it (``ListeningSocket``, mode 0660) until a graceful shutdown is requested
/// (SIGTERM, SIGINT), then stops accepting, lets every connection finish what is in flight,
/// and removes the socket file. The storage and the sweeper are services of their own
/// (``StorageService``, ``SweeperService``) placed before the server in the same
/// `ServiceGroup`, which stops services in reverse order: the server drains first, the store
/// closes last.
package final class TesseraServer: Service, Sendable {
    private let service: AuthService
    private let listener: ListeningSocket
    private let configuration: ServerConfiguration
    private let logger: Logger
    private let tracker = ConnectionTracker()
    private let state = Locked(State.idle)

    /// Where the server is in its life. A server runs once.
    package enum State: Sendable, Equatable {
        /// Created, `run()` not called yet.
        case idle
        /// Starting the socket threads.
        case starting
        /// Accepting connections.
        case serving
        /// Not accepting; draining the open connections.
        case draining
        /// Returned from `run()`.
        case stopped
    }

    /// The server's current state.
    package var currentState: State { state.withLock { $0 } }

    /// Moves to `next` when the server is in `expected`; `false` otherwise.
    private func transition(from expected: State, to next: State) -> Bool {
        state.withLock { current in
            guard current == expected else { return false }
            current = next
            return true
        }
    }

    /// A server for `service` on `listener`: its socket threads start when it runs.
    package init(service: AuthService, listener: ListeningSocket, configuration: ServerConfiguration, logger: Logger) {
        self.service = service
        self.listener = listener
        self.configuration = configuration
        self.logger = logger
    }

    package func run() async throws {
        guard transition(from: .idle, to: .starting) else {
            throw ServerAlreadyRan()
        }
        let loops: [SocketLoop<RequestDispatcher>]
        do {
            loops = try startLoops()
        } catch {
            state.withLock { $0 = .stopped }
            throw error
        }
        _ = transition(from: .starting, to: .serving)
        logger.info("listening", metadata: ["socket.path": "\(configuration.socketPath)"])
        ServiceManagerNotification.send(.ready, to: configuration.notifySocket)

        // Serve until asked to stop.
        try? await gracefulShutdown()

        _ = transition(from: .serving, to: .draining)
        ServiceManagerNotification.send(.stopping, to: configuration.notifySocket)
        logger.info("shutting down: no new connections, draining \(tracker.count) open ones")
        loops[0].stopAccepting()
        for loop in loops { loop.drainConnections() }
        _ = await tracker.waitUntilAllClosed(timeout: Double(configuration.drainTimeoutSeconds))
        for loop in loops { loop.stop() }
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
    static func descriptorLimitFrame() -> [UInt8] {
        var failure = RequestFailure(status: .busy, message: "the server is out of descriptors; retry shortly")
        failure.retryAfterSeconds = 1
        var buffer = ByteBuffer()
        buffer.writeErrorFrame(opcode: 0, requestID: 0, failure: failure, traceID: "0000000000000000", closing: true)
        return Array(buffer.readableBytesView)
    }

    /// Keeps a spare descriptor, so that a process out of descriptors can still answer each
    /// queued connection `busy` and close it rather than leave it hanging (the socket loop's
    /// accept sheds one per failure). Call once at start, before serving.
    package static func prepareDescriptorShedding() throws {
        let frame = descriptorLimitFrame()
        guard tessera_prepare_descriptor_shedding(frame, frame.count) == 0 else {
            throw SocketPathError(description: "cannot keep a spare descriptor (\(String(cString: strerror(errno))))")
        }
    }

    /// Starts the socket threads on the listener (`socketThreads` of them; the first accepts and
    /// hands each new connection to the next thread in turn).
    private func startLoops() throws -> [SocketLoop<RequestDispatcher>] {
        let dispatcher = RequestDispatcher(service: service, configuration: configuration)
        do {
            let loops = try (0..<max(1, configuration.socketThreads)).map { _ in
                try SocketLoop(
                    dispatcher: dispatcher, logger: logger, tracker: tracker, policy: configuration.peers,
                    limits: ConnectionLimits(configuration), quota: configuration.connectionQuota)
            }
            loops[0].peers = loops
            try loops[0].start(listener: listener.descriptor)
            for loop in loops.dropFirst() { try loop.start(listener: nil) }
            return loops
        } catch {
            listener.abandon()
            throw error
        }
    }
}

/// A ``TesseraServer`` runs once: a server that ran (or runs) is not started again; make a new one.
package struct ServerAlreadyRan: Error, CustomStringConvertible {
    package var description: String { "this TesseraServer has already run; make a new one to serve again" }
}
