import TesseraProtocol

/// Why a request failed.
public enum TesseraClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The daemon answered with an error frame.
    case server(ServerError)
    /// The connection closed before the reply arrived; the request may or may not have run.
    case connectionClosed
    /// The daemon could not be reached at the socket path.
    case cannotConnect(path: String, reason: String)
    /// The reply could not be decoded.
    case malformedReply(String)
    /// The request cannot be encoded (a value longer than a field holds); nothing was sent.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .server(let error): error.description
        case .connectionClosed: "the connection to tesserad closed before the reply arrived"
        case .cannotConnect(let path, let reason): "cannot connect to tesserad at \(path): \(reason)"
        case .malformedReply(let why): "malformed reply from tesserad: \(why)"
        case .invalidRequest(let why): "the request cannot be sent: \(why)"
        }
    }

    /// The stable error name (`bad-credentials`, `token-expired`, ...), or a client-side one.
    public var name: String {
        switch self {
        case .server(let error): error.name
        case .connectionClosed: "connection-closed"
        case .cannotConnect: "cannot-connect"
        case .malformedReply: "malformed-reply"
        case .invalidRequest: "invalid-request"
        }
    }
}

/// An error frame from the daemon.
public struct ServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The numeric status code.
    public var code: UInt16
    /// The status, when this client knows the code.
    public var status: Status? { Status(rawValue: code) }
    /// The stable name, e.g. `bad-credentials`.
    public var name: String
    /// A human-readable reason.
    public var message: String
    /// The id under which the daemon logged the failure.
    public var traceID: String?
    /// Seconds after which a retry may succeed.
    public var retryAfterSeconds: UInt32?
    /// The daemon closed the connection after this error.
    public var closedConnection: Bool

    public var description: String {
        "\(name): \(message)" + (traceID.map { " (trace \($0))" } ?? "")
    }
}
