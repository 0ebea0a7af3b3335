/// Why a request failed.
public enum TesseraClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The daemon answered with an error.
    case server(TesseraError)
    /// The connection closed before the reply arrived; the request may or may not have run.
    case connectionClosed
    /// The daemon could not be reached at the socket path.
    case cannotConnect(path: String, reason: String)
    /// The reply could not be decoded.
    case malformedReply(String)
    /// The request cannot be encoded (a value longer than a field holds); nothing was sent.
    case invalidRequest(String)
    /// No reply came within the request's deadline (``TesseraClient/requestTimeout``, or
    /// ``TesseraClient/withRequestTimeout(_:_:)``). The request may still have taken effect.
    case timedOut(after: Duration)

    public var description: String {
        switch self {
        case .server(let error): error.description
        case .connectionClosed: "the connection to tesserad closed before the reply arrived"
        case .cannotConnect(let path, let reason): "cannot connect to tesserad at \(path): \(reason)"
        case .malformedReply(let why): "malformed reply from tesserad: \(why)"
        case .invalidRequest(let why): "the request cannot be sent: \(why)"
        case .timedOut(let after): "no reply from tesserad within \(after) (the request may still have taken effect)"
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
        case .timedOut: "timed-out"
        }
    }

    /// The daemon's code, when the daemon answered.
    public var code: TesseraError.Code? {
        if case .server(let error) = self { return error.code }
        return nil
    }
}

/// An error the daemon answered with: its stable code, a message, the trace id it logged the
/// failure under, and when a retry may succeed.
///
/// ```swift
/// do {
///     _ = try await tessera.login(identifier: name, password: password)
/// } catch TesseraClientError.server(let error) where error.code == .locked {
///     // retry after error.retryAfter
/// }
/// ```
public struct TesseraError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A status code of the protocol (`Protocol/PROTOCOL.md` §8). Codes are never renumbered; a
    /// code this client does not know keeps its number and the daemon's name.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: UInt16
        public init(rawValue: UInt16) { self.rawValue = rawValue }

        public static let badCredentials = Code(rawValue: 1)
        public static let accountNotValidated = Code(rawValue: 2)
        public static let inactiveAccount = Code(rawValue: 3)
        public static let locked = Code(rawValue: 4)
        public static let tokenExpired = Code(rawValue: 5)
        public static let tokenInvalid = Code(rawValue: 6)
        public static let tokenRevoked = Code(rawValue: 7)
        public static let refreshReused = Code(rawValue: 8)
        public static let notFound = Code(rawValue: 9)
        public static let conflict = Code(rawValue: 10)
        public static let invalidArgument = Code(rawValue: 11)
        public static let busy = Code(rawValue: 12)
        public static let `internal` = Code(rawValue: 13)
        public static let storageFull = Code(rawValue: 14)
        public static let unknownOpcode = Code(rawValue: 15)
        public static let frameTooLarge = Code(rawValue: 16)
        public static let malformedFrame = Code(rawValue: 17)
        public static let unsupportedVersion = Code(rawValue: 18)
        public static let forbidden = Code(rawValue: 19)
        public static let twoFactorRequired = Code(rawValue: 20)
        public static let twoFactorInvalid = Code(rawValue: 21)
        public static let alreadyRegistered = Code(rawValue: 22)

        /// Every code this client knows, with its stable name.
        public static let known: [(code: Code, name: String)] = [
            (.badCredentials, "bad-credentials"), (.accountNotValidated, "account-not-validated"), (.inactiveAccount, "inactive-account"),
            (.locked, "locked"), (.tokenExpired, "token-expired"), (.tokenInvalid, "token-invalid"), (.tokenRevoked, "token-revoked"),
            (.refreshReused, "refresh-reused"), (.notFound, "not-found"), (.conflict, "conflict"), (.invalidArgument, "invalid-argument"),
            (.busy, "busy"), (.internal, "internal"), (.storageFull, "storage-full"), (.unknownOpcode, "unknown-opcode"),
            (.frameTooLarge, "frame-too-large"), (.malformedFrame, "malformed-frame"), (.unsupportedVersion, "unsupported-version"),
            (.forbidden, "forbidden"), (.twoFactorRequired, "2fa-required"), (.twoFactorInvalid, "2fa-invalid"),
            (.alreadyRegistered, "already-registered"),
        ]

        /// The stable name (`bad-credentials`), or `code-N` for a code this client does not know.
        public var description: String { Self.known.first { $0.code == self }?.name ?? "code-\(rawValue)" }

        /// Whether the credentials themselves were refused (a wrong password, a token that is not
        /// live, a second factor missing or wrong, a locked or inactive account), as opposed to a
        /// malformed request or trouble on the daemon's side.
        public var refusesCredentials: Bool {
            [
                Code.badCredentials, .accountNotValidated, .inactiveAccount, .locked, .tokenExpired, .tokenInvalid, .tokenRevoked,
                .refreshReused, .twoFactorRequired, .twoFactorInvalid,
            ].contains(self)
        }
    }

    public var code: Code
    /// The stable name the daemon sent, e.g. `bad-credentials`.
    public var name: String
    /// A human-readable reason, safe to show an operator.
    public var message: String
    /// The id under which the daemon logged the failure.
    public var traceID: String?
    /// When a retry may succeed (`busy`, `locked`).
    public var retryAfter: Duration?
    /// The daemon closed the connection after this error.
    public var closedConnection: Bool

    public init(
        code: Code, name: String? = nil, message: String, traceID: String? = nil, retryAfter: Duration? = nil, closedConnection: Bool = false
    ) {
        self.code = code
        self.name = name ?? code.description
        self.message = message
        self.traceID = traceID
        self.retryAfter = retryAfter
        self.closedConnection = closedConnection
    }

    public var description: String {
        "\(name): \(message)" + (traceID.map { " (trace \($0))" } ?? "")
    }
}
