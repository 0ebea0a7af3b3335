/// One user brought from another system: the IMPORTED_USER message, nested in IMPORT_USERS.
/// Its username and profile fields are under USER's tags; its own fields start at tag 32.
public struct ImportedUserMessage: SchemaMessage {
    public var username: String
    public var profile: ProfileFields = ProfileFields()
    /// Unix milliseconds; absent: the time of the import.
    public var createdAt: Int64?
    /// 0 active, 1 unvalidated, 2 disabled.
    public var state: UInt8 = 0
    /// The other system's hash, as it stored it (PROTOCOL.md §7.13a lists the schemes).
    public var passwordHash: String?
    /// A confirmed TOTP secret (30-second steps), the raw bytes.
    public var totpSecret: [UInt8]?
    /// The TOTP code's HMAC: 1 SHA-1 (the default), 2 SHA-256, 3 SHA-512.
    public var totpAlgorithm: UInt8 = 1
    /// 6 (the default) to 8.
    public var totpDigits: UInt8 = 6
    /// The other system's live login tokens, each a session here.
    public var sessions: [ImportedSessionMessage] = []
    /// The other system's personal access tokens, each an API key here.
    public var apiKeys: [ImportedAPIKeyMessage] = []
    /// SHA-256 of each unused backup code, 32 bytes each, concatenated (with `totp_secret` only).
    public var recoveryCodeSHA256: [UInt8] = []

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "IMPORTED_USER",
        {
            var fields: [Field<Self>] = [.string(2, "username", \.username)]
            fields += ProfileFields.schema.fields.map { .embedding($0, at: \.profile) }
            fields += [
                .integer(5, "created_at", \.createdAt),
                .integer(7, "state", \.state, allowed: 0...2),
                .string(32, "password_hash", \.passwordHash),
                .bytes(33, "totp_secret", \.totpSecret),
                .integer(34, "totp_algorithm", \.totpAlgorithm, default: 1, allowed: 1...3),
                .integer(35, "totp_digits", \.totpDigits, default: 6, allowed: 6...8),
                .message(36, "session", \.sessions),
                .message(37, "api_key", \.apiKeys),
                .optionalBytes(38, "recovery_code_sha256", \.recoveryCodeSHA256),
            ]
            return fields.sorted { $0.tag < $1.tag }
        }())
}

/// A login token another system issued, known by the SHA-256 of its text: the IMPORTED_SESSION
/// message, nested in IMPORTED_USER.
public struct ImportedSessionMessage: SchemaMessage {
    public var tokenSHA256: [UInt8]
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds.
    public var expiresAt: Int64

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "IMPORTED_SESSION",
        [
            .bytes(1, "token_sha256", \.tokenSHA256, length: 32),
            .integer(2, "created_at", \.createdAt),
            .integer(3, "expires_at", \.expiresAt),
        ])
}

/// A personal access token another system issued, known by the SHA-256 of its text: the
/// IMPORTED_API_KEY message, nested in IMPORTED_USER.
public struct ImportedAPIKeyMessage: SchemaMessage {
    public var tokenSHA256: [UInt8]
    public var name: String
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds; 0: never.
    public var expiresAt: Int64 = 0

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "IMPORTED_API_KEY",
        [
            .bytes(1, "token_sha256", \.tokenSHA256, length: 32),
            .string(2, "name", \.name),
            .integer(3, "created_at", \.createdAt),
            .integer(4, "expires_at", \.expiresAt, default: 0),
        ])
}

/// IMPORT_USERS request (opcode 0x1B): a batch of users, and where the importing client got to
/// in its source.
public struct ImportUsersRequest: SchemaMessage {
    public var users: [ImportedUserMessage] = []
    /// Check every record against the store as it is, write nothing.
    public var dryRun: Bool = false
    /// A name for the import's source (its file, its database), whose position the server keeps.
    public var source: String?
    /// The position to keep for `source` with this batch; absent: read it only.
    public var position: UInt64?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "IMPORT_USERS request",
        [
            .message(1, "user", \.users),
            .flag(2, "dry_run", \.dryRun),
            .string(3, "source", \.source),
            .integer(4, "position", \.position),
        ])
}

/// A record IMPORT_USERS refused: the IMPORT_REJECTION message.
public struct ImportRejection: SchemaMessage {
    /// The record's place in its batch, from 0.
    public var index: UInt32
    public var reason: String

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "IMPORT_REJECTION",
        [
            .integer(1, "index", \.index),
            .string(2, "reason", \.reason),
        ])
}

/// IMPORT_USERS reply.
public struct ImportUsersResponse: SchemaMessage {
    public var created: UInt32
    public var unchanged: UInt32
    public var rejected: [ImportRejection]
    /// The position kept for the request's source (0: none yet, or no source).
    public var position: UInt64
    /// Imported tokens written as sessions, and as API keys.
    public var sessions: UInt32 = 0
    public var apiKeys: UInt32 = 0

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "IMPORT_USERS reply",
        [
            .integer(1, "created", \.created),
            .integer(2, "unchanged", \.unchanged),
            .message(3, "rejected", \.rejected),
            .integer(4, "position", \.position),
            .integer(5, "sessions", \.sessions, default: 0),
            .integer(6, "api_keys", \.apiKeys, default: 0),
        ])
}

/// EXPORT_USERS request (opcode 0x1C): a page of users in id order, as IMPORT_USERS takes them.
public struct ExportUsersRequest: SchemaMessage {
    /// Start after this user id (0: from the first).
    public var afterID: UInt64 = 0
    /// 1 to 1000.
    public var limit: UInt32 = 100
    /// Include each enrolled user's TOTP secret.
    public var twoFactorSecrets: Bool = false

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "EXPORT_USERS request",
        [
            .integer(1, "after_id", \.afterID),
            .integer(2, "limit", \.limit, allowed: 1...1000),
            .flag(3, "two_factor_secrets", \.twoFactorSecrets),
        ])
}

/// EXPORT_USERS reply.
public struct ExportUsersResponse: SchemaMessage {
    public var users: [ImportedUserMessage] = []
    /// The `after_id` of the next page; absent on the last one.
    public var nextAfterID: UInt64?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "EXPORT_USERS reply",
        [
            .message(1, "user", \.users),
            .integer(2, "next_after_id", \.nextAfterID),
        ])
}
