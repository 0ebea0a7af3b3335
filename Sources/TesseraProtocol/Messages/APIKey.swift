/// API_KEY: one API key as listed, never its secret.
public struct APIKeyInfo: SchemaMessage {
    /// 16 bytes; names the key in REVOKE_API_KEY.
    public var keyID: [UInt8] = []
    public var name = ""
    /// The key's first 12 characters (`tsk_` and 8 more), to recognize it by.
    public var prefix = ""
    public var createdAt: Int64 = 0
    /// Absent: never expires.
    public var expiresAt: Int64?
    /// Absent: never used.
    public var lastUsedAt: Int64?
    /// Absent: not revoked.
    public var revokedAt: Int64?
    public var permissions: [String] = []

    public init() {}

    public init(
        keyID: [UInt8], name: String, prefix: String, createdAt: Int64, expiresAt: Int64? = nil, lastUsedAt: Int64? = nil,
        revokedAt: Int64? = nil, permissions: [String] = []
    ) {
        self.keyID = keyID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.permissions = permissions
    }

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
    public var user = UserSelector()
    public var name = ""
    /// Absent: the key never expires.
    public var lifetimeSeconds: UInt32?
    /// Each one of the user's roles.
    public var permissions: [String] = []

    public init() {}

    public init(user: UserSelector, name: String, lifetimeSeconds: UInt32? = nil, permissions: [String] = []) {
        self.user = user
        self.name = name
        self.lifetimeSeconds = lifetimeSeconds
        self.permissions = permissions
    }

    public static let schema = MessageSchema<Self>(
        "CREATE_API_KEY request",
        Field<Self>.userSelector(\.user) + [
            .string(32, "name", \.name),
            .integer(33, "lifetime_seconds", \.lifetimeSeconds),
            .string(34, "permission", \.permissions),
        ])
}

/// CREATE_API_KEY reply: the key's text, shown once, and the key as listed.
public struct CreateAPIKeyResponse: SchemaMessage {
    /// `tsk_` and 68 characters: the credential a machine client sends. Not stored; not shown again.
    public var key = ""
    public var apiKey = APIKeyInfo()

    public init() {}

    public init(key: String, apiKey: APIKeyInfo) {
        self.key = key
        self.apiKey = apiKey
    }

    public static let schema = MessageSchema<Self>(
        "CREATE_API_KEY reply",
        [
            .string(1, "key", \.key),
            .message(2, "api_key", \.apiKey),
        ])
}

/// LIST_API_KEYS reply (opcode 0x61): every key of the user, oldest first.
public struct APIKeyListResponse: SchemaMessage {
    public var apiKeys: [APIKeyInfo] = []

    public init() {}

    public init(apiKeys: [APIKeyInfo]) { self.apiKeys = apiKeys }

    public static let schema = MessageSchema<Self>(
        "LIST_API_KEYS reply",
        [
            .message(1, "api_key", \.apiKeys)
        ])
}

/// REVOKE_API_KEY request (opcode 0x62): one key by its id.
public struct RevokeAPIKeyRequest: SchemaMessage {
    public var keyID: [UInt8] = []
    /// A session token of the key's user: required from an application peer (self-service).
    public var sessionToken: String?

    public init() {}

    public init(keyID: [UInt8], sessionToken: String? = nil) {
        self.keyID = keyID
        self.sessionToken = sessionToken
    }

    public static let schema = MessageSchema<Self>(
        "REVOKE_API_KEY request",
        [
            .bytes(1, "key_id", \.keyID, length: 16),
            .string(2, "session_token", \.sessionToken),
        ])
}

/// VERIFY_API_KEY request (opcode 0x64): an API key, and nothing else.
public struct VerifyAPIKeyRequest: SchemaMessage {
    public var key = ""

    public init() {}

    public init(key: String) { self.key = key }

    public static let schema = MessageSchema<Self>(
        "VERIFY_API_KEY request",
        [
            .string(1, "key", \.key)
        ])
}

/// VERIFY_API_KEY reply: whose key it is, which key, what it may do.
public struct VerifyAPIKeyResponse: SchemaMessage {
    public var userID: UInt64 = 0
    public var keyID: [UInt8] = []
    public var name = ""
    public var permissions: [String] = []
    /// Absent: never expires.
    public var expiresAt: Int64?

    public init() {}

    public init(userID: UInt64, keyID: [UInt8], name: String, permissions: [String], expiresAt: Int64? = nil) {
        self.userID = userID
        self.keyID = keyID
        self.name = name
        self.permissions = permissions
        self.expiresAt = expiresAt
    }

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
