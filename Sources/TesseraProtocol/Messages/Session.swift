import NIOCore

/// LOGIN request (opcode 0x20).
public struct LoginRequest: WireMessage {
    /// Tag 1, string: a username, or an email address (it contains `@`).
    public var identifier: String
    /// Tag 2, bytes.
    public var password: [UInt8]
    /// Tag 3, string, optional: the end user's IP address, kept with the session.
    public var clientIP: String?
    /// Tag 4, string, optional: the end user's User-Agent, kept with the session.
    public var userAgent: String?
    /// Tag 5, u32, optional: a shorter session lifetime in seconds (capped by the server).
    public var lifetimeSeconds: UInt32?
    /// Tag 6, u32, optional: a shorter idle timeout in seconds (capped by the server).
    public var idleTimeoutSeconds: UInt32?

    public init(identifier: String, password: [UInt8], clientIP: String? = nil, userAgent: String? = nil, lifetimeSeconds: UInt32? = nil,
                idleTimeoutSeconds: UInt32? = nil) {
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.identifier = identifier
        self.password = password
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.lifetimeSeconds = lifetimeSeconds
    }

    public init(decoding body: ByteBuffer) throws {
        var identifier: String?, password: [UInt8]?, clientIP: String?, userAgent: String?, lifetimeSeconds: UInt32?, idle: UInt32?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: identifier = try value.fieldString(tag)
            case 2: password = value.fieldBytes()
            case 3: clientIP = try value.fieldString(tag)
            case 4: userAgent = try value.fieldString(tag)
            case 5: lifetimeSeconds = try value.fieldInteger(tag)
            case 6: idle = try value.fieldInteger(tag)
            default: break
            }
        }
        self.idleTimeoutSeconds = idle
        self.identifier = try required(identifier, "identifier")
        self.password = try required(password, "password")
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.lifetimeSeconds = lifetimeSeconds
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: identifier)
        buffer.writeField(2, bytes: password)
        if let clientIP { buffer.writeField(3, string: clientIP) }
        if let userAgent { buffer.writeField(4, string: userAgent) }
        if let lifetimeSeconds { buffer.writeField(5, integer: lifetimeSeconds) }
        if let idleTimeoutSeconds { buffer.writeField(6, integer: idleTimeoutSeconds) }
    }
}

/// LOGIN reply.
public struct LoginResponse: WireMessage {
    /// Tag 1, string: the session token (68 characters of URL-safe Base64).
    public var token: String
    /// Tag 2, bytes (16): the session id, which is not a secret.
    public var sessionID: [UInt8]
    /// Tag 3, i64: absolute expiry, Unix time in milliseconds.
    public var expiresAt: Int64
    /// Tag 4, ``UserInfo``.
    public var user: UserInfo
    /// Tag 5, string, optional: the refresh token (68 characters), for REFRESH.
    public var refreshToken: String?
    /// Tag 6, i64, optional: the refresh token's expiry.
    public var refreshExpiresAt: Int64?

    public init(token: String, sessionID: [UInt8], expiresAt: Int64, user: UserInfo, refreshToken: String? = nil, refreshExpiresAt: Int64? = nil) {
        self.token = token
        self.sessionID = sessionID
        self.expiresAt = expiresAt
        self.user = user
        self.refreshToken = refreshToken
        self.refreshExpiresAt = refreshExpiresAt
    }

    public init(decoding body: ByteBuffer) throws {
        var token: String?, session: [UInt8]?, expires: Int64?, user: UserInfo?, refresh: String?, refreshExpires: Int64?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: token = try value.fieldString(tag)
            case 2: session = value.fieldBytes()
            case 3: expires = try value.fieldInteger(tag)
            case 4: user = try UserInfo(decoding: value)
            case 5: refresh = try value.fieldString(tag)
            case 6: refreshExpires = try value.fieldInteger(tag)
            default: break
            }
        }
        self.refreshToken = refresh
        self.refreshExpiresAt = refreshExpires
        self.token = try required(token, "token")
        self.sessionID = try required(session, "session_id")
        self.expiresAt = try required(expires, "expires_at")
        self.user = try required(user, "user")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: token)
        buffer.writeField(2, bytes: sessionID)
        buffer.writeField(3, integer: expiresAt)
        buffer.writeField(4) { user.encode(into: &$0) }
        if let refreshToken { buffer.writeField(5, string: refreshToken) }
        if let refreshExpiresAt { buffer.writeField(6, integer: refreshExpiresAt) }
    }
}

/// REFRESH request (opcode 0x23). The reply has LOGIN's fields, refresh token included.
public struct RefreshRequest: WireMessage {
    /// Tag 1, string: the refresh token.
    public var refreshToken: String
    /// Tag 2, string, optional: the end user's IP address, kept with the new session.
    public var clientIP: String?
    /// Tag 3, string, optional: the end user's User-Agent, kept with the new session.
    public var userAgent: String?

    public init(refreshToken: String, clientIP: String? = nil, userAgent: String? = nil) {
        self.refreshToken = refreshToken
        self.clientIP = clientIP
        self.userAgent = userAgent
    }

    public init(decoding body: ByteBuffer) throws {
        var token: String?, ip: String?, agent: String?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: token = try value.fieldString(tag)
            case 2: ip = try value.fieldString(tag)
            case 3: agent = try value.fieldString(tag)
            default: break
            }
        }
        refreshToken = try required(token, "refresh_token")
        clientIP = ip
        userAgent = agent
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: refreshToken)
        if let clientIP { buffer.writeField(2, string: clientIP) }
        if let userAgent { buffer.writeField(3, string: userAgent) }
    }
}

/// VERIFY (opcode 0x21) and LOGOUT (opcode 0x22) requests: tag 1 holds the token.
public struct TokenRequest: WireMessage {
    /// Tag 1, string.
    public var token: String

    public init(token: String) { self.token = token }

    public init(decoding body: ByteBuffer) throws {
        var token: String?
        try decodeFields(body) { tag, value in
            if tag == 1 { token = try value.fieldString(tag) }
        }
        self.token = try required(token, "token")
    }

    /// VERIFY's fields without copying: the token, and tag 2 `with_user` (u8, 1 = reply with
    /// the user's profile too, Rocket.Chat's "resume" / `GET /v1/auth/user` in one round trip).
    @inlinable
    public static func verifyFields(in body: ByteBuffer) throws -> (token: ByteBuffer, withUser: Bool) {
        var reader = FieldReader(body)
        var token: ByteBuffer?
        var withUser = false
        while let (tag, value) = try reader.next() {
            switch tag {
            case 1:
                guard token == nil else { throw ProtocolError.duplicateField(tag: 1) }
                token = value
            case 2:
                withUser = try value.fieldInteger(tag, as: UInt8.self) == 1
            default:
                continue
            }
        }
        return (try required(token, "token"), withUser)
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: token)
    }
}

/// VERIFY reply: who the token belongs to.
public struct VerifyResponse: WireMessage {
    /// Tag 1, u64.
    public var userID: UInt64
    /// Tag 2, bytes (16).
    public var sessionID: [UInt8]
    /// Tag 3, i64: absolute expiry, Unix time in milliseconds.
    public var expiresAt: Int64
    /// Tag 4, string, repeated.
    public var roles: [String]
    /// Tag 5, ``UserInfo``, when the request asked `with_user`.
    public var user: UserInfo?

    public init(userID: UInt64, sessionID: [UInt8], expiresAt: Int64, roles: [String], user: UserInfo? = nil) {
        self.userID = userID
        self.sessionID = sessionID
        self.expiresAt = expiresAt
        self.roles = roles
        self.user = user
    }

    public init(decoding body: ByteBuffer) throws {
        var user: UInt64?, session: [UInt8]?, expires: Int64?, profile: UserInfo?
        var roles: [String] = []
        try decodeFields(body, repeated: [4]) { tag, value in
            switch tag {
            case 1: user = try value.fieldInteger(tag)
            case 2: session = value.fieldBytes()
            case 3: expires = try value.fieldInteger(tag)
            case 4: roles.append(try value.fieldString(tag))
            case 5: profile = try UserInfo(decoding: value)
            default: break
            }
        }
        self.user = profile
        self.userID = try required(user, "user_id")
        self.sessionID = try required(session, "session_id")
        self.expiresAt = try required(expires, "expires_at")
        self.roles = roles
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, integer: userID)
        buffer.writeField(2, bytes: sessionID)
        buffer.writeField(3, integer: expiresAt)
        for role in roles { buffer.writeField(4, string: role) }
        if let user { buffer.writeField(5) { user.encode(into: &$0) } }
    }
}

/// VERIFY request (opcode 0x21) asking for the user's profile too.
public struct VerifyRequest: WireMessage {
    /// Tag 1, string.
    public var token: String
    /// Tag 2, u8, optional: 1 = include the user (tag 5 of the reply).
    public var withUser: Bool

    public init(token: String, withUser: Bool = false) {
        self.token = token
        self.withUser = withUser
    }

    public init(decoding body: ByteBuffer) throws {
        let (token, withUser) = try TokenRequest.verifyFields(in: body)
        self.token = try token.fieldString(1)
        self.withUser = withUser
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: token)
        if withUser { buffer.writeField(2, integer: UInt8(1)) }
    }
}

/// An empty body (LOGOUT's reply).
public struct EmptyMessage: WireMessage {
    public init() {}
    public init(decoding body: ByteBuffer) throws {
        try decodeFields(body) { _, _ in }
    }
    public func encode(into buffer: inout ByteBuffer) {}
}
