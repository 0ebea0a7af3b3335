/// API_KEY: one API key as listed, never its secret.
public struct APIKeyInfo: SchemaMessage {
    /// 16 bytes; names the key in REVOKE_API_KEY.
    public var keyID: [UInt8]
    public var name: String
    /// The key's first 12 characters (`tsk_` and 8 more), to recognize it by.
    public var prefix: String
    public var createdAt: Int64
    /// Absent: never expires.
    public var expiresAt: Int64?
    /// Absent: never used.
    public var lastUsedAt: Int64?
    /// Absent: not revoked.
    public var revokedAt: Int64?
    public var permissions: [String] = []

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "API_KEY",
        [
            .bytes(1, "key_id", \.keyID, length: 16),
            .string(2, "name", \.name),
            .string(3, "prefix", \.prefix),
            .integer(4, "created_at", \.createdAt),
            .integer(5, "expires_at", \.expiresAt),
            .integer(6, "last_used_at", \.lastUsedAt),
            .integer(7, "revoked_at", \.revokedAt),
            .string(8, "permission", \.permissions),
        ])
}

/// CREATE_API_KEY request (opcode 0x60): the user, the key's name, lifetime and permissions.
public struct CreateAPIKeyRequest: SchemaMessage {
    public var user: UserSelector
    public var name: String
    /// Absent: the key never expires.
    public var lifetimeSeconds: UInt32?
    /// Each one of the user's roles.
    public var permissions: [String] = []
    /// The user's current password: needed from an application (re-authentication).
    public var password: [UInt8]?
    /// A current TOTP code, when the user has a second factor (or ``recoveryCode``).
    public var code: String?
    public var recoveryCode: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "CREATE_API_KEY request",
        Field<Self>.userSelector(\.user) + [
            .string(32, "name", \.name),
            .integer(33, "lifetime_seconds", \.lifetimeSeconds),
            .string(34, "permission", \.permissions),
            .bytes(35, "password", \.password),
            .string(36, "code", \.code),
            .string(37, "recovery_code", \.recoveryCode),
        ])
}

/// CREATE_API_KEY reply: the key's text, shown once, and the key as listed.
public struct CreateAPIKeyResponse: SchemaMessage {
    /// `tsk_` and 68 characters: the credential a machine client sends. Not stored; not shown again.
    public var key: String
    public var apiKey: APIKeyInfo

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "CREATE_API_KEY reply",
        [
            .string(1, "key", \.key),
            .message(2, "api_key", \.apiKey),
        ])
}

/// LIST_API_KEYS reply (opcode 0x61): every key of the user, oldest first.
public struct APIKeyListResponse: SchemaMessage {
    public var apiKeys: [APIKeyInfo]

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LIST_API_KEYS reply",
        [
            .message(1, "api_key", \.apiKeys)
        ])
}

/// REVOKE_API_KEY request (opcode 0x62): one key by its id.
public struct RevokeAPIKeyRequest: SchemaMessage {
    public var keyID: [UInt8]
    /// A session token of the key's user: required from an application peer (self-service).
    public var sessionToken: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "REVOKE_API_KEY request",
        [
            .bytes(1, "key_id", \.keyID, length: 16),
            .string(2, "session_token", \.sessionToken),
        ])
}

/// VERIFY_API_KEY request (opcode 0x64): an API key, and nothing else.
public struct VerifyAPIKeyRequest: SchemaMessage {
    public var key: String

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "VERIFY_API_KEY request",
        [
            .string(1, "key", \.key)
        ])
}

/// VERIFY_API_KEY reply: whose key it is, which key, what it may do.
public struct VerifyAPIKeyResponse: SchemaMessage {
    public var userID: UInt64
    public var keyID: [UInt8]
    public var name: String
    public var permissions: [String]
    /// Absent: never expires.
    public var expiresAt: Int64?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "VERIFY_API_KEY reply",
        [
            .integer(1, "user_id", \.userID),
            .bytes(2, "key_id", \.keyID, length: 16),
            .string(3, "name", \.name),
            .string(4, "permission", \.permissions),
            .integer(5, "expires_at", \.expiresAt),
        ])
}
