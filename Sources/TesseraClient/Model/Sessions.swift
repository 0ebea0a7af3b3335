import TesseraProtocol

/// What LOGIN and REFRESH return: an access token and a refresh token. Times are Unix
/// milliseconds. Neither token should be logged.
public struct LoginResult: Sendable, Equatable {
    /// The access token: send it on every request (VERIFY).
    public var token: String
    public var sessionID: SessionID
    /// The access session's absolute expiry (an idle timeout may end it sooner).
    public var expiresAt: Int64
    public var user: User
    /// For ``TesseraClient/refresh(refreshToken:clientIP:userAgent:)``.
    public var refreshToken: String
    /// The refresh family's expiry, fixed at login.
    public var refreshExpiresAt: Int64
    /// A JWT access token (Ed25519), when asked for: other services verify it offline against
    /// the JWKS.
    public var jwt: String?
    /// The JWT's expiry, in milliseconds since the Unix epoch.
    public var jwtExpiresAt: Int64?
    /// Set when the login used a recovery code: how many are left. Tell the user (and suggest
    /// regenerating them when few are left).
    public var recoveryCodesLeft: Int?

    init(_ reply: LoginResponse) throws(TesseraClientError) {
        guard let session = SessionID(bytes: reply.sessionID) else { throw .malformedReply("a session id is 16 bytes") }
        token = reply.token
        sessionID = session
        expiresAt = reply.expiresAt
        user = try User(reply.user)
        refreshToken = reply.refreshToken
        refreshExpiresAt = reply.refreshExpiresAt
        jwt = reply.jwt
        jwtExpiresAt = reply.jwtExpiresAt
        recoveryCodesLeft = reply.recoveryCodesLeft.map(Int.init)
    }
}

/// Who a token belongs to.
public struct VerifiedSession: Sendable, Equatable {
    public var userID: UInt64
    public var sessionID: SessionID
    /// The absolute expiry, Unix milliseconds.
    public var expiresAt: Int64
    /// The user's roles as the session knows them.
    public var roles: [String]
    /// Only from ``TesseraClient/verifyWithUser(token:)``.
    public var user: User?
    /// Set when the credential was an API key: its name (``sessionID`` is then the key's id,
    /// ``roles`` its permissions, ``expiresAt`` 0 when it never expires).
    public var apiKeyName: String?

    init(_ reply: VerifyResponse) throws(TesseraClientError) {
        guard let session = SessionID(bytes: reply.sessionID) else { throw .malformedReply("a session id is 16 bytes") }
        userID = reply.userID
        sessionID = session
        expiresAt = reply.expiresAt
        roles = reply.roles
        user = try reply.user.map { info throws(TesseraClientError) in try User(info) }
        apiKeyName = reply.apiKeyName
    }
}

/// One of a user's sessions, as the daemon lists it: never its token.
public struct SessionSummary: Sendable, Equatable {
    public var sessionID: SessionID
    public var createdAt: Int64
    public var expiresAt: Int64
    public var clientIP: String?
    public var userAgent: String?

    init(_ info: SessionInfo) throws(TesseraClientError) {
        guard let session = SessionID(bytes: info.sessionID) else { throw .malformedReply("a session id is 16 bytes") }
        sessionID = session
        createdAt = info.createdAt
        expiresAt = info.expiresAt
        clientIP = info.clientIP
        userAgent = info.userAgent
    }
}
