/// Settings of the socket server.
package struct ServerConfiguration: Sendable {
    /// Path of the Unix domain socket. Created with mode 0660.
    package var socketPath: String
    /// Largest accepted value of a frame's length field. Checked before buffering.
    package var maximumFrameLength: UInt32 = 16 * 1024
    /// Slow requests (login, create user, logout) one connection may have in flight; more get `busy`.
    package var maximumInFlight: UInt32 = 256
    /// Event-loop threads. Default: one per core.
    package var socketThreads: Int
    /// Seconds between sweeps of expired sessions and refresh tokens (0: no sweeping).
    package var sweepIntervalSeconds: UInt32 = 10
    /// How long a graceful shutdown waits for in-flight requests before closing connections.
    package var drainTimeoutSeconds: Int64 = 10
    /// Who is admin, who is an application, from the peer's credentials at accept.
    package var peers = PeerPolicy()
    /// Open connections at most; one more gets a `busy` frame and is closed.
    package var maximumConnections = 4096
    /// Of `maximumConnections`, the slots only administrators may take.
    package var adminConnections = 16
    /// Connections one non-admin uid may hold at most.
    package var maximumConnectionsPerUID = 1024

    /// The connection slots and who may take them.
    package var connectionQuota: ConnectionQuota {
        ConnectionQuota(maximum: maximumConnections, adminReserve: min(adminConnections, maximumConnections / 2), perUID: maximumConnectionsPerUID)
    }
    /// A connection with nothing received and nothing in flight for this long is closed (the
    /// client reconnects on its next request). 0: never.
    package var idleTimeoutSeconds: Int64 = 300
    /// A frame must be complete this long after its first byte arrived, or the connection is
    /// closed (a client trickling bytes holds a buffer).
    package var frameTimeoutSeconds: Int64 = 10
    /// Reply bytes a connection may have waiting for a client that does not read before the
    /// server stops reading its requests; past `unreadTimeoutSeconds` of that, it is closed.
    package var outputPauseBytes = 256 * 1024
    /// Reply bytes a connection may have waiting at most: the replies of slow requests already
    /// in flight when reading stopped still arrive, and one that would pass this closes the
    /// connection at once (one reply is always written when nothing else waits).
    package var outputLimitBytes = 1024 * 1024
    /// How long a client may leave its replies unread before the connection is closed.
    package var unreadTimeoutSeconds: Int64 = 30
    /// The service manager's socket to tell when the server is ready and when it stops
    /// (`NOTIFY_SOCKET`, ``ServiceManagerNotification``); none: nobody is told.
    package var notifySocket: String?

    package init(socketPath: String, socketThreads: Int) {
        self.socketPath = socketPath
        self.socketThreads = socketThreads
    }

    /// The name the server reports in HELLO.
    package static let serverName = "tesserad/0.1.0"
}
