import NIOCore

/// LOGIN request (opcode 0x20).
public struct LoginRequest: SchemaMessage {
    /// A username; an email when it contains `@`; a phone number when it starts with `+`.
    public var identifier: String
    public var password: [UInt8]
    /// The end user's IP address, kept with the session.
    public var clientIP: String?
    /// The end user's User-Agent, kept with the session.
    public var userAgent: String?
    /// A shorter session lifetime in seconds (capped by the server).
    public var lifetimeSeconds: UInt32?
    /// A shorter idle timeout in seconds (capped by the server).
    public var idleTimeoutSeconds: UInt32?
    /// Also return a JWT access token (LOGIN reply `jwt`).
    public var jwt: Bool = false
    /// A TOTP code, for a user with two-factor login.
    public var code: String?
    /// A recovery code instead of a TOTP code.
    public var recoveryCode: String?
    /// `password` holds the 64 lower-case hex digits of the password's SHA-256 (Meteor's and
    /// Rocket.Chat's clients' `{digest, algorithm: "sha-256"}`), not the password.
    public var passwordIsSHA256Hex: Bool = false

    public init() { self.init(zeroed: ()) }

    /// The tag of `client_ip`, which the server reads before decoding the rest (to decide
    /// whether the check may start while the hashing pool is full).
    public static let clientIPTag: UInt8 = 3

    public static let schema = MessageSchema<Self>(
        "LOGIN request",
        [
            .string(1, "identifier", \.identifier),
            .bytes(2, "password", \.password),
            .string(clientIPTag, "client_ip", \.clientIP),
            .string(4, "user_agent", \.userAgent),
            .integer(5, "lifetime_seconds", \.lifetimeSeconds),
            .integer(6, "idle_timeout_seconds", \.idleTimeoutSeconds),
            .flag(7, "jwt", \.jwt),
            .string(8, "code", \.code),
            .string(9, "recovery_code", \.recoveryCode),
            .flag(10, "password_sha256_hex", \.passwordIsSHA256Hex),
        ])
}

/// LOGIN and REFRESH reply: a new access token and refresh token.
public struct LoginResponse: SchemaMessage {
    /// The session token (68 characters of URL-safe Base64).
    public var token: String
    /// The session id (16 bytes), which is not a secret.
    public var sessionID: [UInt8]
    /// Absolute expiry of the session, Unix milliseconds.
    public var expiresAt: Int64
    public var user: UserInfo
    /// The refresh token (68 characters), for REFRESH.
    public var refreshToken: String
    /// The refresh token's absolute expiry, Unix milliseconds.
    public var refreshExpiresAt: Int64
    /// A JWT access token for the session, when the request asked for one.
    public var jwt: String?
    public var jwtExpiresAt: Int64?
    /// Present when the login used a recovery code: how many are left (warn the user).
    public var recoveryCodesLeft: UInt8?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LOGIN reply",
        [
            .string(1, "token", \.token),
            .bytes(2, "session_id", \.sessionID, length: 16),
            .integer(3, "expires_at", \.expiresAt),
            .message(4, "user", \.user),
            .string(5, "refresh_token", \.refreshToken),
            .integer(6, "refresh_expires_at", \.refreshExpiresAt),
            .string(7, "jwt", \.jwt),
            .integer(8, "jwt_expires_at", \.jwtExpiresAt),
            .integer(9, "recovery_codes_left", \.recoveryCodesLeft),
        ])
}

/// REFRESH request (opcode 0x23). The reply is a LOGIN reply.
public struct RefreshRequest: SchemaMessage {
    public var refreshToken: String
    /// The end user's IP address, kept with the new session.
    public var clientIP: String?
    /// The end user's User-Agent, kept with the new session.
    public var userAgent: String?
    /// Also return a JWT access token for the new session.
    public var jwt: Bool = false

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "REFRESH request",
        [
            .string(1, "refresh_token", \.refreshToken),
            .string(2, "client_ip", \.clientIP),
            .string(3, "user_agent", \.userAgent),
            .flag(4, "jwt", \.jwt),
        ])
}

/// LOGOUT request (opcode 0x22): the token whose session ends.
public struct TokenRequest: SchemaMessage {
    public var token: String

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LOGOUT request",
        [
            .string(1, "token", \.token)
        ])
}

/// VERIFY request (opcode 0x21): the per-request hot path.
public struct VerifyRequest: SchemaMessage {
    public var token: String
    /// Also return the user's profile (Rocket.Chat's "resume", `GET /v1/auth/user`, in one round trip).
    public var withUser: Bool = false
    /// Also return the API keys of the token's user (every key for a session, only itself for
    /// an API key): `GET /v1/auth/user` in one round trip.
    public var withAPIKeys: Bool = false

    @usableFromInline static let tokenTag: UInt8 = 1
    @usableFromInline static let withUserTag: UInt8 = 2
    @usableFromInline static let withAPIKeysTag: UInt8 = 3

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "VERIFY request",
        [
            .string(tokenTag, "token", \.token),
            .flag(withUserTag, "with_user", \.withUser),
            .flag(withAPIKeysTag, "with_api_keys", \.withAPIKeys),
        ])

    /// Written by hand rather than through ``schema``'s field closures: a web process sends one
    /// for every request, and the generic writer cost it half a microsecond. The bytes are the
    /// schema's: `VerifyRequestEncodingTests` compares the two, and the spec's vectors both.
    public func encode(into buffer: inout ByteBuffer) throws {
        try buffer.writeField(Self.tokenTag, string: token)
        if withUser { buffer.writeField(Self.withUserTag, integer: UInt8(1)) }
        if withAPIKeys { buffer.writeField(Self.withAPIKeysTag, integer: UInt8(1)) }
    }

    /// The request's fields without copying, for the server's hot path: the token's bytes (not
    /// checked for UTF-8: a token that is not one answers `token-invalid` either way) and
    /// `with_user` and `with_api_keys`. The same rules as ``init(decoding:)`` otherwise.
    @inlinable
    public static func fields(in body: ByteBuffer) throws -> (token: ByteBuffer, withUser: Bool, withAPIKeys: Bool) {
        var reader = FieldReader(body)
        var token: ByteBuffer?
        var withUser: UInt8?
        var withAPIKeys: UInt8?
        while let (tag, value) = try reader.next() {
            switch tag {
            case tokenTag:
                guard token == nil else { throw ProtocolError.duplicateField(tag: tag) }
                token = value
            case withUserTag:
                guard withUser == nil else { throw ProtocolError.duplicateField(tag: tag) }
                withUser = try value.fieldInteger(tag, name: "with_user", allowed: 0...1)
            case withAPIKeysTag:
                guard withAPIKeys == nil else { throw ProtocolError.duplicateField(tag: tag) }
                withAPIKeys = try value.fieldInteger(tag, name: "with_api_keys", allowed: 0...1)
            default:
                continue
            }
        }
        guard let token else { throw ProtocolError.missingField(name: "token") }
        return (token, withUser == 1, withAPIKeys == 1)
    }
}

/// VERIFY reply: who the token belongs to.
public struct VerifyResponse: SchemaMessage {
    public var userID: UInt64
    /// 16 bytes.
    public var sessionID: [UInt8]
    /// Absolute expiry, Unix milliseconds.
    public var expiresAt: Int64
    /// The user's roles, as of login (or the last UPDATE_USER that changed them).
    public var roles: [String]
    /// The user, when the request asked `with_user`.
    public var user: UserInfo?
    /// Present when the credential was an API key: its name. `session_id` is then the key's id,
    /// `role` its permissions, and `expires_at` 0 for a key that never expires.
    public var apiKeyName: String?
    /// The API keys of the token's user, when the request asked `with_api_keys`: oldest first,
    /// never a secret; for an API key, only itself.
    public var apiKeys: [APIKeyInfo] = []

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "VERIFY reply",
        [
            .integer(Tag.userID, "user_id", \.userID),
            .bytes(Tag.sessionID, "session_id", \.sessionID, length: 16),
            .integer(Tag.expiresAt, "expires_at", \.expiresAt),
            .string(Tag.role, "role", \.roles),
            .message(Tag.user, "user", \.user),
            .string(Tag.apiKeyName, "api_key_name", \.apiKeyName),
            .message(Tag.apiKey, "api_key", \.apiKeys),
        ])

    /// The reply's tags, shared by ``schema`` and the hot-path writers below.
    @usableFromInline enum Tag {
        @usableFromInline static let userID: UInt8 = 1
        @usableFromInline static let sessionID: UInt8 = 2
        @usableFromInline static let expiresAt: UInt8 = 3
        @usableFromInline static let role: UInt8 = 4
        @usableFromInline static let user: UInt8 = 5
        @usableFromInline static let apiKeyName: UInt8 = 6
        @usableFromInline static let apiKey: UInt8 = 7
    }

    // The server's hot path writes a VERIFY reply straight from the session's parts, without
    // building the message: `writeSessionReply` (the frame header, `user_id`, `session_id`,
    // `expires_at` and every `role`, in one write to the buffer), then `writeUser` and
    // `writeAPIKeyName` and `writeAPIKey` when they apply, then `ByteBuffer.finishFrame(startingAt:)`. Byte for
    // byte what `encode(into:)` writes for the same values
    // (`Protocol/vectors/verify-response.hex` checks both).

    /// Writes a VERIFY reply's frame header and its `user_id`, `session_id`, `expires_at` and
    /// `role` fields (the roles as `forEachRole` visits them, UTF-8; a stored role is at most
    /// 255 bytes) with one bounds check and one access to the buffer's storage. Returns where
    /// the frame starts, for ``NIOCore/ByteBuffer/finishFrame(startingAt:)``.
    @inlinable @inline(__always)
    public static func writeSessionReply(
        opcode: UInt8, requestID: UInt32, userID: UInt64, sessionID: (high: UInt64, low: UInt64), expiresAt: Int64,
        forEachRole: ((UnsafeRawBufferPointer) -> Void) -> Void, into buffer: inout ByteBuffer
    ) -> Int {
        var rolesSize = 0
        forEachRole { rolesSize += 3 + min($0.count, Int(UInt16.max)) }
        let size = 12 + 11 + 19 + 11 + rolesSize
        let start = buffer.writerIndex
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { out in
            let base = out.baseAddress!
            base.storeBytes(of: UInt32(size - 4).bigEndian, toByteOffset: 0, as: UInt32.self)
            base.storeBytes(of: opcode, toByteOffset: 4, as: UInt8.self)
            base.storeBytes(of: FrameFlags.response.rawValue, toByteOffset: 5, as: UInt8.self)
            base.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)
            base.storeBytes(of: requestID.bigEndian, toByteOffset: 8, as: UInt32.self)
            var offset = 12
            func header(_ tag: UInt8, _ length: Int) {
                base.storeBytes(of: tag, toByteOffset: offset, as: UInt8.self)
                base.storeBytes(of: UInt16(length).bigEndian, toByteOffset: offset + 1, as: UInt16.self)
                offset += 3
            }
            func word(_ value: UInt64) {
                base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            header(Tag.userID, 8)
            word(userID)
            header(Tag.sessionID, 16)
            word(sessionID.high)
            word(sessionID.low)
            header(Tag.expiresAt, 8)
            word(UInt64(bitPattern: expiresAt))
            forEachRole { role in
                let count = min(role.count, Int(UInt16.max))
                header(Tag.role, count)
                if count > 0 { (base + offset).copyMemory(from: role.baseAddress!, byteCount: count) }
                offset += count
            }
            return size
        }
        return start
    }

    /// Writes the `user` field.
    @inlinable
    public static func writeUser(_ user: UserInfo, into buffer: inout ByteBuffer) throws {
        try buffer.writeField(Tag.user) { try user.encode(into: &$0) }
    }

    /// Writes the `api_key_name` field from the name's UTF-8 bytes (at most 64 when stored).
    @inlinable @inline(__always)
    public static func writeAPIKeyName(_ name: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        let count = min(name.count, Int(UInt16.max))
        buffer.writeMultipleIntegers(Tag.apiKeyName, UInt16(count))
        buffer.writeBytes(UnsafeRawBufferPointer(rebasing: name.prefix(count)))
    }

    /// Writes one `api_key` field.
    @inlinable
    public static func writeAPIKey(_ key: APIKeyInfo, into buffer: inout ByteBuffer) throws {
        try buffer.writeField(Tag.apiKey) { try key.encode(into: &$0) }
    }

    /// Decodes a VERIFY reply as ``init(decoding:)`` does, with the same errors, reading each
    /// field straight into the message: a client decodes one of these for every web request,
    /// and the schema's call per field through a closure makes it about half again as slow (365
    /// against 565 ns for a reply with two roles). With `readUser`, the `user` field's bytes go
    /// to it instead of being decoded into ``user`` (a client that keeps the users it decoded
    /// last, by their bytes, then decodes an unchanged user no more).
    public static func decodeReply(_ body: ByteBuffer) throws -> VerifyResponse {
        try decodeReply(body, decodingUser: true) { _ in }
    }

    /// ``decodeReply(_:)`` with the `user` field's bytes handed to `readUser` instead of decoded.
    public static func decodeReply(_ body: ByteBuffer, readUser: (ByteBuffer) throws -> Void) throws -> VerifyResponse {
        try decodeReply(body, decodingUser: false, readUser)
    }

    /// `readUser` is not escaping (an optional closure would be): what it captures stays on the
    /// caller's stack instead of in a heap box, an allocation a reply.
    private static func decodeReply(_ body: ByteBuffer, decodingUser: Bool, _ readUser: (ByteBuffer) throws -> Void) throws -> VerifyResponse {
        var reply = VerifyResponse()
        var reader = FieldReader(body)
        var seen = SeenTags()
        while let (tag, value) = try reader.next() {
            switch tag {
            case Tag.userID:
                try seen.insert(tag)
                reply.userID = try value.fieldInteger(tag)
            case Tag.sessionID:
                try seen.insert(tag)
                guard value.readableBytes == 16 else { throw ProtocolError.badFieldLength(tag: tag, expected: 16, actual: value.readableBytes) }
                reply.sessionID = value.fieldBytes()
            case Tag.expiresAt:
                try seen.insert(tag)
                reply.expiresAt = try value.fieldInteger(tag)
            case Tag.role:
                reply.roles.append(try value.fieldString(tag))
            case Tag.user:
                try seen.insert(tag)
                if decodingUser { reply.user = try UserInfo(decoding: value) } else { try readUser(value) }
            case Tag.apiKeyName:
                try seen.insert(tag)
                reply.apiKeyName = try value.fieldString(tag)
            case Tag.apiKey:
                reply.apiKeys.append(try APIKeyInfo(decoding: value))
            default:
                continue
            }
        }
        // Checked one by one: a list of them would be an allocation a reply.
        guard seen.contains(Tag.userID) else { throw ProtocolError.missingField(name: "user_id") }
        guard seen.contains(Tag.sessionID) else { throw ProtocolError.missingField(name: "session_id") }
        guard seen.contains(Tag.expiresAt) else { throw ProtocolError.missingField(name: "expires_at") }
        return reply
    }
}

/// One session as LIST_SESSIONS reports it: never the token.
public struct SessionInfo: SchemaMessage {
    public var sessionID: [UInt8]
    public var createdAt: Int64
    public var expiresAt: Int64
    public var clientIP: String?
    public var userAgent: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "SESSION",
        [
            .bytes(1, "session_id", \.sessionID, length: 16),
            .integer(2, "created_at", \.createdAt),
            .integer(3, "expires_at", \.expiresAt),
            .string(4, "client_ip", \.clientIP),
            .string(5, "user_agent", \.userAgent),
        ])
}

/// LIST_SESSIONS request (opcode 0x30): a page of a user's sessions, in session id order.
public struct ListSessionsRequest: SchemaMessage {
    public var user: UserSelector
    /// Start after this session id (16 bytes); from the first when absent.
    public var afterSessionID: [UInt8]?
    public var limit: UInt32 = 100

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LIST_SESSIONS request",
        Field<Self>.userSelector(\.user) + [
            .bytes(32, "after_session_id", \.afterSessionID, length: 16),
            .integer(33, "limit", \.limit, default: 100, allowed: 1...1000),
        ])
}

/// LIST_SESSIONS reply: a page of sessions; `next_after_session_id` when more may follow.
public struct SessionListResponse: SchemaMessage {
    public var sessions: [SessionInfo]
    public var nextAfterSessionID: [UInt8]?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LIST_SESSIONS reply",
        [
            .message(1, "session", \.sessions),
            .bytes(2, "next_after_session_id", \.nextAfterSessionID, length: 16),
        ])
}

/// REVOKE_SESSION request (opcode 0x31): one session by its id.
public struct SessionIDRequest: SchemaMessage {
    public var sessionID: [UInt8]
    /// A session token of the session's user: required from an application peer (self-service).
    public var sessionToken: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "REVOKE_SESSION request",
        [
            .bytes(1, "session_id", \.sessionID, length: 16),
            .string(2, "session_token", \.sessionToken),
        ])
}

/// REVOKE_ALL_SESSIONS request (opcode 0x32): every session of the user, or all but one.
public struct RevokeAllSessionsRequest: SchemaMessage {
    public var user: UserSelector
    public var exceptSessionID: [UInt8]?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "REVOKE_ALL_SESSIONS request",
        Field<Self>.userSelector(\.user) + [
            .bytes(32, "except_session_id", \.exceptSessionID, length: 16)
        ])
}

/// REVOKE_ALL_SESSIONS reply: how many sessions and API keys ended.
public struct RevokeAllSessionsResponse: SchemaMessage {
    public var count: UInt32
    public var apiKeys: UInt32

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "REVOKE_ALL_SESSIONS reply",
        [
            .integer(1, "count", \.count),
            .integer(2, "api_keys", \.apiKeys),
        ])
}

/// REVOKE_ALL_API_KEYS reply: how many keys ended.
public struct CountResponse: SchemaMessage {
    public var count: UInt32

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "REVOKE_ALL_API_KEYS reply",
        [
            .integer(1, "count", \.count)
        ])
}
