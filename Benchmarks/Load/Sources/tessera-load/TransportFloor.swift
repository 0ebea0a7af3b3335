import ArgumentParser
import CEpoll
import Foundation
import NIOCore
@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

#if canImport(Glibc)
import Glibc
#endif

/// VERIFY behind a bare epoll loop: a floor for the socket path.
///
/// The same store, session index, digest, request decoding and reply encoding as tesserad, on
/// one thread that does nothing per request but `read(2)`, the verify and `write(2)`: no
/// channel pipeline, futures or per-connection timers. The distance from this to tesserad is
/// what the daemon's transport costs per request. It answers VERIFY and nothing else, has no
/// limits and no peer checks: a measuring instrument, never a server.
struct TransportFloor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-floor",
        abstract: "Serve VERIFY only, from a bare epoll loop on a Unix socket: the transport floor (until SIGTERM).")
    @Option(help: "Data directory seeded by 'seed' (no daemon running on it).") var data: String
    @Option(name: .customLong("master-key"), help: "Master key file (default: tessera-master.key beside the data directory).")
    var masterKey: String?
    @Option(help: "Unix socket to listen on.") var socket: String

    func run() async throws {
        let store = try openStore(data: data, masterKey: masterKey)
        let configuration = AuthConfiguration()
        let hashingPool = HashingPool(configuration)
        let service = AuthService(store: store, configuration: configuration, hashingPool: hashingPool)
        await store.waitForSessionIndex()
        try serve(verification: service.verification, clock: service.clock)
    }

    private final class Connection {
        var frames = FrameAccumulator(maximumLength: 1 << 20)
        var input = ByteBuffer()
        var output = ByteBuffer()
    }

    private func serve(verification: Verification, clock: any TesseraCore.Clock) throws {
        unlink(socket)
        let listener = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socket.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw ValidationError("socket path too long") }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(listener, 256) == 0 else { throw ValidationError("cannot listen on \(socket): errno \(errno)") }
        let epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        var listening = epoll_event(events: UInt32(EPOLLIN.rawValue), data: epoll_data_t(fd: listener))
        epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &listening)
        FileHandle.standardError.write(Data("serving on \(socket)\n".utf8))

        var connections: [Int32: Connection] = [:]
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            let count = epoll_wait(epoll, &events, Int32(events.count), -1)
            guard count > 0 else { continue }
            let now = clock.now()
            for index in 0..<Int(count) {
                let fd = events[index].data.fd
                if fd == listener {
                    while case let client = cepoll_accept(listener), client >= 0 {
                        var event = epoll_event(events: UInt32(EPOLLIN.rawValue), data: epoll_data_t(fd: client))
                        epoll_ctl(epoll, EPOLL_CTL_ADD, client, &event)
                        let connection = Connection()
                        connection.input.reserveCapacity(16384)
                        connection.output.reserveCapacity(16384)
                        connections[client] = connection
                    }
                    continue
                }
                guard let connection = connections[fd] else { continue }
                connection.input.clear()
                var result = 0
                connection.input.writeWithUnsafeMutableBytes(minimumWritableBytes: 16384) { raw in
                    result = Glibc.read(fd, raw.baseAddress, raw.count)
                    return max(0, result)
                }
                if result <= 0 {
                    if result < 0 && (errno == EAGAIN || errno == EINTR) { continue }
                    close(fd)
                    connections[fd] = nil
                    continue
                }
                connection.frames.append(&connection.input)
                var output = connection.output
                connection.output = ByteBuffer()
                output.clear()
                while let frame = try connection.frames.next() {
                    answer(frame, verification: verification, now: now, into: &output)
                }
                // Replies are small and the client reads them: a write that does not take
                // everything at once means a client that stopped reading, which this floor drops.
                let written = output.withUnsafeReadableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if written != output.readableBytes {
                    close(fd)
                    connections[fd] = nil
                    continue
                }
                connection.output = output
            }
        }
    }

    /// A VERIFY reply (or an error frame), as tesserad writes it.
    private func answer(_ frame: Frame, verification: Verification, now: Timestamp, into output: inout ByteBuffer) {
        do {
            let (token, _, _) = try VerifyRequest.fields(in: frame.body)
            try verification.withSnapshot { snapshot in
                let session = try token.withUnsafeReadableBytes { try snapshot.verify(token: $0, now: now) }
                _ = VerifyResponse.writeSessionReply(
                    opcode: frame.opcode, requestID: frame.requestID, userID: session.userID,
                    sessionID: (session.sessionID.high, session.sessionID.low), expiresAt: session.expiresAt,
                    forEachRole: session.forEachRole, into: &output)
            }
        } catch {
            let status = (error as? AuthError).map { _ in Status.tokenInvalid } ?? .invalidArgument
            try? output.writeFrame(opcode: frame.opcode, flags: .response, status: status.rawValue, requestID: frame.requestID) {
                try ErrorBody(name: status.name, message: "not answered by the transport floor").encode(into: &$0)
            }
        }
    }
}
