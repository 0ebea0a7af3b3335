import NIOCore

/// SET_USER_STATE request (opcode 0x12): the user as in GET_USER (tag 1, 2 or 3) and tag 4,
/// u8, the new state: 0 active, 1 unvalidated, 2 disabled. Reply: a USER.
public struct SetUserStateRequest: WireMessage {
    public var user: GetUserRequest
    public var state: UInt8

    public init(user: GetUserRequest, state: UInt8) {
        self.user = user
        self.state = state
    }

    public init(decoding body: ByteBuffer) throws {
        user = try GetUserRequest(decoding: body)
        var state: UInt8?
        try decodeFields(body) { tag, value in if tag == 4 { state = try value.fieldInteger(tag) } }
        self.state = try required(state, "state")
        guard self.state <= 2 else { throw ProtocolError.invalidValue("state must be 0 (active), 1 (unvalidated) or 2 (disabled)") }
    }

    public func encode(into buffer: inout ByteBuffer) {
        user.encode(into: &buffer)
        buffer.writeField(4, integer: state)
    }
}

/// One session as listed by LIST_SESSIONS: never the token.
public struct SessionInfo: WireMessage {
    /// Tag 1, bytes (16).
    public var sessionID: [UInt8]
    /// Tag 2, i64.
    public var createdAt: Int64
    /// Tag 3, i64.
    public var expiresAt: Int64
    /// Tag 4, string, optional.
    public var clientIP: String?
    /// Tag 5, string, optional.
    public var userAgent: String?

    public init(sessionID: [UInt8], createdAt: Int64, expiresAt: Int64, clientIP: String? = nil, userAgent: String? = nil) {
        self.sessionID = sessionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.clientIP = clientIP
        self.userAgent = userAgent
    }

    public init(decoding body: ByteBuffer) throws {
        var id: [UInt8]?, created: Int64?, expires: Int64?, ip: String?, agent: String?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: id = value.fieldBytes()
            case 2: created = try value.fieldInteger(tag)
            case 3: expires = try value.fieldInteger(tag)
            case 4: ip = try value.fieldString(tag)
            case 5: agent = try value.fieldString(tag)
            default: break
            }
        }
        sessionID = try required(id, "session_id")
        createdAt = try required(created, "created_at")
        expiresAt = try required(expires, "expires_at")
        clientIP = ip
        userAgent = agent
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, bytes: sessionID)
        buffer.writeField(2, integer: createdAt)
        buffer.writeField(3, integer: expiresAt)
        if let clientIP { buffer.writeField(4, string: clientIP) }
        if let userAgent { buffer.writeField(5, string: userAgent) }
    }
}

/// LIST_SESSIONS reply: tag 1, repeated, a ``SessionInfo`` each, oldest first.
public struct SessionListResponse: WireMessage {
    public var sessions: [SessionInfo]

    public init(sessions: [SessionInfo]) { self.sessions = sessions }

    public init(decoding body: ByteBuffer) throws {
        var sessions: [SessionInfo] = []
        try decodeFields(body, repeated: [1]) { tag, value in if tag == 1 { sessions.append(try SessionInfo(decoding: value)) } }
        self.sessions = sessions
    }

    public func encode(into buffer: inout ByteBuffer) {
        for session in sessions { buffer.writeField(1) { session.encode(into: &$0) } }
    }
}

/// REVOKE_SESSION request (opcode 0x31): tag 1, bytes (16), the session id. Reply: empty.
public struct SessionIDRequest: WireMessage {
    public var sessionID: [UInt8]

    public init(sessionID: [UInt8]) { self.sessionID = sessionID }

    public init(decoding body: ByteBuffer) throws {
        var id: [UInt8]?
        try decodeFields(body) { tag, value in if tag == 1 { id = value.fieldBytes() } }
        sessionID = try required(id, "session_id")
        guard sessionID.count == 16 else { throw ProtocolError.badFieldLength(tag: 1, expected: 16, actual: sessionID.count) }
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, bytes: sessionID)
    }
}

/// REVOKE_ALL_SESSIONS request (opcode 0x32): the user as in GET_USER (tag 1, 2 or 3) and,
/// optionally, tag 4, bytes (16), a session to keep ("log out everywhere else").
public struct RevokeAllSessionsRequest: WireMessage {
    public var user: GetUserRequest
    public var exceptSessionID: [UInt8]?

    public init(user: GetUserRequest, exceptSessionID: [UInt8]? = nil) {
        self.user = user
        self.exceptSessionID = exceptSessionID
    }

    public init(decoding body: ByteBuffer) throws {
        user = try GetUserRequest(decoding: body)
        var except: [UInt8]?
        try decodeFields(body) { tag, value in if tag == 4 { except = value.fieldBytes() } }
        if let except, except.count != 16 { throw ProtocolError.badFieldLength(tag: 4, expected: 16, actual: except.count) }
        exceptSessionID = except
    }

    public func encode(into buffer: inout ByteBuffer) {
        user.encode(into: &buffer)
        if let exceptSessionID { buffer.writeField(4, bytes: exceptSessionID) }
    }
}

/// A reply carrying a count (REVOKE_ALL_SESSIONS): tag 1, u32.
public struct CountResponse: WireMessage {
    public var count: UInt32

    public init(count: UInt32) { self.count = count }

    public init(decoding body: ByteBuffer) throws {
        var count: UInt32?
        try decodeFields(body) { tag, value in if tag == 1 { count = try value.fieldInteger(tag) } }
        self.count = try required(count, "count")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, integer: count)
    }
}

/// CHANGE_PASSWORD request (opcode 0x15): tag 1 `token` string (the caller's session), tag 2
/// `current_password` bytes, tag 3 `new_password` bytes. Reply: empty.
public struct ChangePasswordRequest: WireMessage {
    public var token: String
    public var currentPassword: [UInt8]
    public var newPassword: [UInt8]

    public init(token: String, currentPassword: [UInt8], newPassword: [UInt8]) {
        self.token = token
        self.currentPassword = currentPassword
        self.newPassword = newPassword
    }

    public init(decoding body: ByteBuffer) throws {
        var token: String?, current: [UInt8]?, new: [UInt8]?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: token = try value.fieldString(tag)
            case 2: current = value.fieldBytes()
            case 3: new = value.fieldBytes()
            default: break
            }
        }
        self.token = try required(token, "token")
        currentPassword = try required(current, "current_password")
        newPassword = try required(new, "new_password")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: token)
        buffer.writeField(2, bytes: currentPassword)
        buffer.writeField(3, bytes: newPassword)
    }
}

/// SET_PASSWORD request (opcode 0x16): the user as in GET_USER and tag 4 `password` bytes. Reply: empty.
public struct SetPasswordRequest: WireMessage {
    public var user: GetUserRequest
    public var password: [UInt8]

    public init(user: GetUserRequest, password: [UInt8]) {
        self.user = user
        self.password = password
    }

    public init(decoding body: ByteBuffer) throws {
        user = try GetUserRequest(decoding: body)
        var password: [UInt8]?
        try decodeFields(body) { tag, value in if tag == 4 { password = value.fieldBytes() } }
        self.password = try required(password, "password")
    }

    public func encode(into buffer: inout ByteBuffer) {
        user.encode(into: &buffer)
        buffer.writeField(4, bytes: password)
    }
}

/// LIST_USERS request (opcode 0x18): tag 1 `after_id` u64 (optional, 0 = from the start),
/// tag 2 `limit` u32 (optional, 1–1000, default 100).
public struct ListUsersRequest: WireMessage {
    public var afterID: UInt64
    public var limit: UInt32

    public init(afterID: UInt64 = 0, limit: UInt32 = 100) {
        self.afterID = afterID
        self.limit = limit
    }

    public init(decoding body: ByteBuffer) throws {
        var after: UInt64?, limit: UInt32?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: after = try value.fieldInteger(tag)
            case 2: limit = try value.fieldInteger(tag)
            default: break
            }
        }
        afterID = after ?? 0
        self.limit = limit ?? 100
    }

    public func encode(into buffer: inout ByteBuffer) {
        if afterID != 0 { buffer.writeField(1, integer: afterID) }
        buffer.writeField(2, integer: limit)
    }
}

/// LIST_USERS reply: tag 1, repeated, a USER each, in id order; tag 2 `next_after_id` u64 when
/// more may follow (pass it as `after_id`).
public struct UserListResponse: WireMessage {
    public var users: [UserInfo]
    public var nextAfterID: UInt64?

    public init(users: [UserInfo], nextAfterID: UInt64?) {
        self.users = users
        self.nextAfterID = nextAfterID
    }

    public init(decoding body: ByteBuffer) throws {
        var users: [UserInfo] = [], next: UInt64?
        try decodeFields(body, repeated: [1]) { tag, value in
            switch tag {
            case 1: users.append(try UserInfo(decoding: value))
            case 2: next = try value.fieldInteger(tag)
            default: break
            }
        }
        self.users = users
        nextAfterID = next
    }

    public func encode(into buffer: inout ByteBuffer) {
        for user in users { buffer.writeField(1) { user.encode(into: &$0) } }
        if let nextAfterID { buffer.writeField(2, integer: nextAfterID) }
    }
}
