import ArgumentParser
import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraServer

/// The socket and its connections: where it listens, how many threads serve it, the limits a
/// connection is held to.
struct SocketOptions: ParsableArguments {
    @Option(name: .long, help: "Path of the Unix domain socket.")
    var socket = "tessera.sock"

    @Option(
        name: [.customLong("socket-threads"), .customLong("event-loop-threads")],
        help:
            "Socket threads (--event-loop-threads is its former name). Default: half the cores (at least one); the web processes on the same host need the rest."
    )
    var socketThreads: Int = max(1, TesseraCore.System.coreCount / 2)

    @Option(name: .customLong("max-frame"), help: "Largest accepted frame, in bytes.")
    var maximumFrame: UInt32 = 16 * 1024

    @Option(name: .customLong("max-connections"), help: "Open connections at most; one more gets a 'busy' frame and is closed.")
    var maximumConnections = 4096

    @Option(
        name: .customLong("admin-connections"),
        help:
            "Of --max-connections, the slots kept for administrators (the CLI), so that web processes holding the rest never lock them out; at most half of --max-connections is kept."
    )
    var adminConnections = 16

    @Option(
        name: .customLong("max-connections-per-uid"),
        help: "Connections one non-admin uid may hold, so that one web process cannot take every slot from the others.")
    var maximumConnectionsPerUID = 1024

    @Option(
        name: .customLong("connection-idle-timeout"),
        help: "Seconds a connection may receive nothing (with nothing in flight) before it is closed; clients reconnect (0: never).")
    var connectionIdleTimeout: Int64 = 300

    @Option(name: .customLong("frame-timeout"), help: "Seconds a frame may take to arrive whole after its first byte.")
    var frameTimeout: Int64 = 10

    /// The longest connection idle timeout, in seconds.
    static let year: Int64 = 365 * 24 * 3600

    func validate() throws {
        guard (1...1_000_000).contains(maximumConnections) else { throw ValidationError("--max-connections must be between 1 and 1,000,000") }
        guard (0...1_000_000).contains(adminConnections) else { throw ValidationError("--admin-connections must be between 0 and 1,000,000") }
        guard (1...1_000_000).contains(maximumConnectionsPerUID) else {
            throw ValidationError("--max-connections-per-uid must be between 1 and 1,000,000")
        }
        guard (1...256).contains(socketThreads) else { throw ValidationError("--socket-threads must be between 1 and 256") }
        // Bounded before use: the socket loop counts in nanoseconds.
        guard (0...Self.year).contains(connectionIdleTimeout), (1...3600).contains(frameTimeout) else {
            throw ValidationError(
                "--connection-idle-timeout must be between 0 and \(Self.year) seconds (a year) and --frame-timeout between 1 and 3600")
        }
        guard (256...(16 << 20)).contains(maximumFrame) else { throw ValidationError("--max-frame must be between 256 bytes and 16 MiB") }
    }

    func apply(to server: inout ServerConfiguration) {
        server.maximumFrameLength = maximumFrame
        server.maximumConnections = maximumConnections
        server.adminConnections = adminConnections
        server.maximumConnectionsPerUID = maximumConnectionsPerUID
        server.idleTimeoutSeconds = connectionIdleTimeout
        server.frameTimeoutSeconds = frameTimeout
    }
}
