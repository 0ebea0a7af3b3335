/// Settings of the socket server.
public struct ServerConfiguration: Sendable {
    /// Path of the Unix domain socket. Created with mode 0660.
    public var socketPath: String
    /// Largest accepted value of a frame's length field. Checked before buffering.
    public var maximumFrameLength: UInt32 = 16 * 1024
    /// Slow requests (login, create user, logout) one connection may have in flight; more get `busy`.
    public var maximumInFlight: UInt32 = 256
    /// Event-loop threads. Default: one per core.
    public var socketThreads: Int
    /// Seconds between sweeps of expired sessions and refresh tokens (0: no sweeping).
    public var sweepIntervalSeconds: UInt32 = 10
    /// How long a graceful shutdown waits for in-flight requests before closing connections.
    public var drainTimeoutSeconds: Int64 = 10
    /// Who is admin, who is an application, from the peer's credentials at accept.
    public var peers = PeerPolicy()
    /// Open connections at most; one more gets a `busy` frame and is closed.
    public var maximumConnections = 4096
    /// A connection with nothing received and nothing in flight for this long is closed (the
    /// client reconnects on its next request). 0: never.
    public var idleTimeoutSeconds: Int64 = 300
    /// A frame must be complete this long after its first byte arrived, or the connection is
    /// closed (a client trickling bytes holds a buffer).
    public var frameTimeoutSeconds: Int64 = 10
    /// Reply bytes a connection may have waiting for a client that does not read before the
    /// server stops reading its requests; past `unreadTimeoutSeconds` of that, it is closed.
    public var outputPauseBytes = 256 * 1024
    /// How long a client may leave its replies unread before the connection is closed.
    public var unreadTimeoutSeconds: Int64 = 30
    /// The service manager's socket to tell when the server is ready and when it stops
    /// (`NOTIFY_SOCKET`, ``ServiceManagerNotification``); none: nobody is told.
    public var notifySocket: String?

    public init(socketPath: String, socketThreads: Int) {
        self.socketPath = socketPath
        self.socketThreads = socketThreads
    }

    /// The name the server reports in HELLO.
    public static let serverName = "tesserad/0.1.0"
}
