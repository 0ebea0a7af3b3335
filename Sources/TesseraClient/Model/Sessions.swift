import Foundation
internal import TesseraProtocol

/// What LOGIN and REFRESH return: an access token and a refresh token. Neither token should be
/// logged.
public struct LoginResult: Sendable, Equatable {
    /// The access token: send it on every request (``TesseraClient/verify(token:)``).
    public var token: String
    public var sessionID: SessionID
    /// The access session's absolute expiry (an idle timeout may end it sooner).
    public var expiresAt: Date
    public var user: User
    /// For ``TesseraClient/refresh(refreshToken:clientIP:userAgent:jwt:)``.
    public var refreshToken: String
    /// The refresh family's expiry, fixed at login.
    public var refreshExpiresAt: Date
    /// A JWT access token (Ed25519), when asked for: other services verify it offline against
    /// the JWKS.
    public var jwt: String?
    /// The JWT's expiry.
    public var jwtExpiresAt: Date?
    /// Set when the login used a recovery code: how many are left. Tell the user (and suggest
    /// regenerating them when few are left).
    public var recoveryCodesLeft: Int?

    init(_ reply: LoginResponse) throws(TesseraClientError) {
        guard let session = SessionID(bytes: reply.sessionID) else { throw .malformedReply("a session id is 16 bytes") }
        token = reply.token
        sessionID = session
        expiresAt = Date(milliseconds: reply.expiresAt)
        user = try User(reply.user)
        refreshToken = reply.refreshToken
        refreshExpiresAt = Date(milliseconds: reply.refreshExpiresAt)
        jwt = reply.jwt
        jwtExpiresAt = reply.jwtExpiresAt.map(Date.init(milliseconds:))
        recoveryCodesLeft = reply.recoveryCodesLeft.map(Int.init)
    }
}

/// Who a credential belongs to: a session token's (or JWT's) session, or an API key.
public struct VerifiedSession: Sendable, Equatable {
    /// What the credential was.
    public enum Credential: Sendable, Equatable {
        /// A session token or a JWT, of this session.
        case session(SessionID)
        /// An API key: its id and name.
        case apiKey(APIKeyID, name: String)
    }

    public var userID: UInt64
    public var credential: Credential
    /// When the credential stops working (the idle deadline may come first); `nil` for an API
    /// key that never expires.
    public var expiresAt: Date?
    /// The user's roles as the session knows them, or the API key's permissions.
    public var roles: [String]
    /// Only from ``TesseraClient/verifyWithUser(token:apiKeys:)``.
    public var user: User?
    /// The user's API keys, oldest first, never a secret (for an API key, only itself): only
    /// from ``TesseraClient/verifyWithUser(token:apiKeys:)`` with `apiKeys`.
    public var apiKeys: [APIKey]

    /// The session's id; `nil` when the credential was an API key.
    public var sessionID: SessionID? {
        if case .session(let id) = credential { return id }
        return nil
    }

    /// The API key's name; `nil` when the credential was a session's.
    public var apiKeyName: String? {
        if case .apiKey(_, let name) = credential { return name }
        return nil
    }

    init(_ reply: VerifyResponse) throws(TesseraClientError) {
        try self.init(reply, user: reply.user.map { info throws(TesseraClientError) in try User(info) })
    }

    /// The session of `reply`, with `user` (read from the reply's `user` field by the caller).
    init(_ reply: VerifyResponse, user: User?) throws(TesseraClientError) {
        userID = reply.userID
        if let name = reply.apiKeyName {
            guard let id = APIKeyID(bytes: reply.sessionID) else { throw .malformedReply("an API key id is 16 bytes") }
            credential = .apiKey(id, name: name)
            expiresAt = reply.expiresAt == 0 ? nil : Date(milliseconds: reply.expiresAt)
        } else {
            guard let id = SessionID(bytes: reply.sessionID) else { throw .malformedReply("a session id is 16 bytes") }
            credential = .session(id)
            expiresAt = Date(milliseconds: reply.expiresAt)
        }
        roles = reply.roles
        self.user = user
        apiKeys = try reply.apiKeys.map { info throws(TesseraClientError) in try APIKey(info) }
    }
}

/// One of a user's sessions, as the daemon lists it: never its token.
public struct SessionSummary: Sendable, Equatable {
    public var sessionID: SessionID
    public var createdAt: Date
    public var expiresAt: Date
    public var clientIP: String?
    public var userAgent: String?

    init(_ info: SessionInfo) throws(TesseraClientError) {
        guard let session = SessionID(bytes: info.sessionID) else { throw .malformedReply("a session id is 16 bytes") }
        sessionID = session
        createdAt = Date(milliseconds: info.createdAt)
        expiresAt = Date(milliseconds: info.expiresAt)
        clientIP = info.clientIP
        userAgent = info.userAgent
    }
}
