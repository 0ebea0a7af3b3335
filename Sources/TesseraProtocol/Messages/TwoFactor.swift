/// TWO_FACTOR_STATUS reply (opcode 0x50): a user's second factor, never its secret.
public struct TwoFactorStatusResponse: SchemaMessage {
    /// 0 none, 1 pending (issued, not yet confirmed), 2 enrolled.
    public var state: UInt8
    /// 1 SHA-1, 2 SHA-256, 3 SHA-512.
    public var algorithm: UInt8?
    public var digits: UInt8?
    public var periodSeconds: UInt8?
    public var createdAt: Int64?
    public var confirmedAt: Int64?
    public var recoveryCodesLeft: UInt8?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "TWO_FACTOR_STATUS reply",
        [
            .integer(1, "state", \.state, allowed: 0...2),
            .integer(2, "algorithm", \.algorithm, allowed: 1...3),
            .integer(3, "digits", \.digits),
            .integer(4, "period_seconds", \.periodSeconds),
            .integer(5, "created_at", \.createdAt),
            .integer(6, "confirmed_at", \.confirmedAt),
            .integer(7, "recovery_codes_left", \.recoveryCodesLeft),
        ])
}

/// ENROL_TWO_FACTOR request (opcode 0x51): the user and the code's form.
public struct EnrolTwoFactorRequest: SchemaMessage {
    public var user: UserSelector
    /// 1 SHA-1 (the default), 2 SHA-256, 3 SHA-512.
    public var algorithm: UInt8 = 1
    /// 6 (the default) or 8.
    public var digits: UInt8 = 6
    /// The issuer the authenticator app shows; the server's when absent.
    public var issuer: String?
    /// The account name the app shows; the user's email, else its username, when absent.
    public var accountName: String?
    /// The user's current password: needed from an application (re-authentication).
    public var password: [UInt8]?
    /// A current code of the second factor already enrolled (or ``recoveryCode``): enrolling
    /// over one is a `conflict` after the check.
    public var code: String?
    public var recoveryCode: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "ENROL_TWO_FACTOR request",
        Field<Self>.userSelector(\.user) + [
            .integer(32, "algorithm", \.algorithm, default: 1, allowed: 1...3),
            .integer(33, "digits", \.digits, default: 6, allowed: 6...8),
            .string(34, "issuer", \.issuer),
            .string(35, "account_name", \.accountName),
            .bytes(36, "password", \.password),
            .string(37, "code", \.code),
            .string(38, "recovery_code", \.recoveryCode),
        ])
}

/// ENROL_TWO_FACTOR reply: the new secret, shown once.
public struct EnrolTwoFactorResponse: SchemaMessage {
    /// The secret in Base32 (RFC 4648, no padding).
    public var secret: String
    /// The `otpauth://totp/...` URI an authenticator app reads.
    public var uri: String
    public var algorithm: UInt8 = 1
    public var digits: UInt8 = 6
    public var periodSeconds: UInt8 = 30

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "ENROL_TWO_FACTOR reply",
        [
            .string(1, "secret", \.secret),
            .string(2, "uri", \.uri),
            .integer(3, "algorithm", \.algorithm, allowed: 1...3),
            .integer(4, "digits", \.digits),
            .integer(5, "period_seconds", \.periodSeconds),
        ])
}

/// CONFIRM_TWO_FACTOR request (opcode 0x52): the user and one code from the new secret.
public struct ConfirmTwoFactorRequest: SchemaMessage {
    public var user: UserSelector
    /// A code of the new secret.
    public var code: String
    /// The user's current password: needed from an application (re-authentication).
    public var password: [UInt8]?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "CONFIRM_TWO_FACTOR request",
        Field<Self>.userSelector(\.user) + [
            .string(32, "code", \.code),
            .bytes(33, "password", \.password),
        ])
}

/// The reply of CONFIRM_TWO_FACTOR and REGENERATE_RECOVERY_CODES: ten recovery codes, shown once.
public struct RecoveryCodesResponse: SchemaMessage {
    public var recoveryCodes: [String]

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "RECOVERY_CODES reply",
        [
            .string(1, "recovery_code", \.recoveryCodes)
        ])
}

/// DISABLE_TWO_FACTOR request (opcode 0x53): the user, and from the user themselves the
/// password with a current code or a recovery code.
public struct DisableTwoFactorRequest: SchemaMessage {
    public var user: UserSelector
    public var password: [UInt8]?
    public var code: String?
    public var recoveryCode: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "DISABLE_TWO_FACTOR request",
        Field<Self>.userSelector(\.user) + [
            .bytes(32, "password", \.password),
            .string(33, "code", \.code),
            .string(34, "recovery_code", \.recoveryCode),
        ])
}

/// REGENERATE_RECOVERY_CODES request (opcode 0x54): the user, and from the user themselves a
/// current code.
public struct RegenerateRecoveryCodesRequest: SchemaMessage {
    public var user: UserSelector
    public var code: String?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "REGENERATE_RECOVERY_CODES request",
        Field<Self>.userSelector(\.user) + [
            .string(32, "code", \.code)
        ])
}
