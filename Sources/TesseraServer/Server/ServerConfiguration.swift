/// Settings of the socket server.
public struct ServerConfiguration: Sendable {
    /// Path of the Unix domain socket. Created with mode 0660.
    public var socketPath: String
    /// Largest accepted value of a frame's length field. Checked before buffering.
    public var maximumFrameLength: UInt32 = 16 * 1024
    /// Slow requests (login, create user, logout) one connection may have in flight; more get `busy`.
    public var maximumInFlight: UInt32 = 256
    /// Event-loop threads. Default: one per core.
    public var eventLoopThreads: Int
    /// Seconds between sweeps of expired sessions and refresh tokens (0: no sweeping).
    public var sweepIntervalSeconds: UInt32 = 10
    /// How long a graceful shutdown waits for in-flight requests before closing connections.
    public var drainTimeoutSeconds: Int64 = 10
    /// Who is admin, who is an application, from the peer's credentials at accept.
    public var peers = PeerPolicy()

    public init(socketPath: String, eventLoopThreads: Int) {
        self.socketPath = socketPath
        self.eventLoopThreads = eventLoopThreads
    }

    /// The name the server reports in HELLO.
    public static let serverName = "tesserad/0.1.0"
}
