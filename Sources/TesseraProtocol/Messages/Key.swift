/// One token key as LIST_KEYS, ROTATE_KEY and RETIRE_KEY report it: never its material.
public struct KeyInfo: SchemaMessage, Equatable {
    public var id: UInt16 = 0
    /// 1: the keyed digest of token secrets (sessions, refresh tokens, validation codes);
    /// 2: signing JWT access tokens (Ed25519).
    public var purpose: UInt8 = 1
    /// 1 active, 2 verify-only, 3 retired.
    public var state: UInt8 = 1
    public var createdAt: Int64 = 0
    public var activatedAt: Int64?
    public var verifyOnlySince: Int64?
    public var retiresAt: Int64?

    public init() {}

    public init(
        id: UInt16, purpose: UInt8 = 1, state: UInt8, createdAt: Int64, activatedAt: Int64? = nil, verifyOnlySince: Int64? = nil,
        retiresAt: Int64? = nil
    ) {
        self.id = id
        self.purpose = purpose
        self.state = state
        self.createdAt = createdAt
        self.activatedAt = activatedAt
        self.verifyOnlySince = verifyOnlySince
        self.retiresAt = retiresAt
    }

    public static let schema = MessageSchema<Self>(
        "KEY",
        [
            .integer(1, "id", \.id),
            .integer(2, "purpose", \.purpose),
            .integer(3, "state", \.state),
            .integer(4, "created_at", \.createdAt),
            .integer(5, "activated_at", \.activatedAt),
            .integer(6, "verify_only_since", \.verifyOnlySince),
            .integer(7, "retires_at", \.retiresAt),
        ])
}

/// LIST_KEYS reply: every key, oldest first.
public struct KeyListResponse: SchemaMessage {
    public var keys: [KeyInfo]

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LIST_KEYS reply",
        [
            .message(1, "key", \.keys)
        ])
}

/// ROTATE_KEY request (opcode 0x41): which purpose's key to replace.
public struct RotateKeyRequest: SchemaMessage {
    public var purpose: UInt8 = 1

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "ROTATE_KEY request",
        [
            .integer(1, "purpose", \.purpose, default: 1, allowed: 1...3)
        ])
}

/// ROTATE_KEY reply: the new active key.
public struct KeyResponse: SchemaMessage {
    public var key: KeyInfo

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "ROTATE_KEY reply",
        [
            .message(1, "key", \.key)
        ])
}

/// RETIRE_KEY request (opcode 0x42): the key to retire now.
public struct RetireKeyRequest: SchemaMessage {
    public var keyID: UInt16

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "RETIRE_KEY request",
        [
            .integer(1, "key_id", \.keyID)
        ])
}

/// RETIRE_KEY reply: the retired key and how many live sessions it ended.
public struct RetireKeyResponse: SchemaMessage {
    public var key: KeyInfo
    public var sessionsEnded: UInt64

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "RETIRE_KEY reply",
        [
            .message(1, "key", \.key),
            .integer(2, "sessions_ended", \.sessionsEnded),
        ])
}

/// ROTATE_MASTER_KEY request (opcode 0x43): where the daemon writes the new master key file.
public struct RotateMasterKeyRequest: SchemaMessage {
    public var path: String

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "ROTATE_MASTER_KEY request",
        [
            .string(1, "path", \.path)
        ])
}

/// ROTATE_MASTER_KEY reply: how many live keys are now sealed under the new master key.
public struct RotateMasterKeyResponse: SchemaMessage {
    public var keysSealed: UInt32

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "ROTATE_MASTER_KEY reply",
        [
            .integer(1, "keys_sealed", \.keysSealed)
        ])
}

/// JWKS reply (opcode 0x44): the JSON Web Key Set of the JWT signing keys that may still verify
/// a JWT (RFC 8037 OKP keys), ready to serve at `/.well-known/jwks.json`.
public struct JWKSResponse: SchemaMessage {
    public var jwks: String

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "JWKS reply",
        [
            .string(1, "jwks", \.jwks)
        ])
}
