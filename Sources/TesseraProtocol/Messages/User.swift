public import TesseraModel

/// A user as the server reports it (never with a password hash): the USER message.
///
/// Its tags are the user's tags everywhere: a user is named (``UserSelector``) by its `id` (1),
/// `username` (2), `email` (3) or `phone` (8), and CREATE_USER and UPDATE_USER set profile
/// fields under the same numbers.
public struct UserInfo: SchemaMessage {
    public var id: UInt64 = 0
    public var username = ""
    public var email: String?
    public var displayName: String?
    /// Unix milliseconds.
    public var createdAt: Int64 = 0
    public var roles: [String] = []
    /// 0 active, 1 unvalidated, 2 disabled.
    public var state: UInt8 = 0
    /// E.164.
    public var phone: String?
    public var imageURL: String?
    /// 0 user, 1 service account.
    public var accountType: UInt8 = 0
    public var rootRole: String?
    /// An external (SCIM) id.
    public var externalID: String?
    public var updatedAt: Int64 = 0
    /// The last successful login, when there was one.
    public var lastLoginAt: Int64?
    /// Consecutive failed logins.
    public var failedLogins: UInt32 = 0
    public var settings: [String: String] = [:]
    public var attributes: [String: AttributeValue] = [:]

    public init() {}

    public init(
        id: UInt64, username: String, email: String? = nil, displayName: String? = nil, createdAt: Int64, roles: [String] = [],
        state: UInt8 = 0, updatedAt: Int64? = nil
    ) {
        self.id = id
        self.username = username
        self.email = email
        self.displayName = displayName
        self.createdAt = createdAt
        self.roles = roles
        self.state = state
        self.updatedAt = updatedAt ?? createdAt
    }

    public static let schema = MessageSchema<Self>(
        "USER",
        [
            .integer(1, "id", \.id),
            .string(2, "username", \.username),
            .string(3, "email", \.email),
            .string(4, "display_name", \.displayName),
            .integer(5, "created_at", \.createdAt),
            .string(6, "role", \.roles),
            .integer(7, "state", \.state, allowed: 0...2),
            .string(8, "phone", \.phone),
            .string(9, "image_url", \.imageURL),
            .integer(10, "account_type", \.accountType, allowed: 0...1),
            .string(11, "root_role", \.rootRole),
            .string(12, "external_id", \.externalID),
            .integer(13, "updated_at", \.updatedAt),
            .integer(14, "last_login_at", \.lastLoginAt),
            .integer(15, "failed_logins", \.failedLogins),
            .settings(16, "setting", \.settings),
            .attributes(17, "attribute", \.attributes),
        ])
}

/// Names one user by exactly one of its USER fields `id` (1), `username` (2), `email` (3) or
/// `phone` (8) (username and email match ignoring case), or by `session_token` (31): the user
/// of that live session, the only way an application peer may name a user (self-service). The
/// request of GET_USER, DELETE_USER, UNLOCK_USER and LIST_SESSIONS, and the first fields of
/// every request that acts on a user.
public enum UserSelector: SchemaMessage {
    case id(UInt64)
    case username(String)
    case email(String)
    case phone(String)
    case sessionToken(String)

    public init() { self = .id(0) }

    public static let schema = MessageSchema<Self>("USER_SELECTOR", Field<Self>.userSelector(\.self))
}

extension Field {
    /// The five fields of a ``UserSelector`` stored at `path`: exactly one must be present.
    public static func userSelector(_ path: any FieldPath<Message, UserSelector>) -> [Field] {
        let stored = StoredProperty(path)
        return [
            Field(
                tag: 1, name: "id", kind: "u64", presence: .oneOf("user"),
                decode: { $0[keyPath: path] = .id(try $1.fieldInteger(1)) },
                encode: { message, buffer in if case .id(let id) = stored[message] { buffer.writeField(1, integer: id) } }),
            Field(
                tag: 2, name: "username", kind: "string", presence: .oneOf("user"),
                decode: { $0[keyPath: path] = .username(try $1.fieldString(2)) },
                encode: { message, buffer in if case .username(let name) = stored[message] { try buffer.writeField(2, string: name) } }),
            Field(
                tag: 3, name: "email", kind: "string", presence: .oneOf("user"),
                decode: { $0[keyPath: path] = .email(try $1.fieldString(3)) },
                encode: { message, buffer in if case .email(let email) = stored[message] { try buffer.writeField(3, string: email) } }),
            Field(
                tag: 8, name: "phone", kind: "string", presence: .oneOf("user"),
                decode: { $0[keyPath: path] = .phone(try $1.fieldString(8)) },
                encode: { message, buffer in if case .phone(let phone) = stored[message] { try buffer.writeField(8, string: phone) } }),
            Field(
                tag: 31, name: "session_token", kind: "string", presence: .oneOf("user"),
                decode: { $0[keyPath: path] = .sessionToken(try $1.fieldString(31)) },
                encode: { message, buffer in
                    if case .sessionToken(let token) = stored[message] { try buffer.writeField(31, string: token) }
                }),
        ]
    }
}

/// The reply of every operation that returns a user: tag 1 the USER; tags 2 and 3 the
/// validation code of an account waiting for validation and its expiry (CREATE_USER of an
/// unvalidated account, NEW_VALIDATION_CODE).
public struct UserResponse: SchemaMessage {
    public var user: UserInfo
    public var validationCode: String?
    public var validationExpiresAt: Int64?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "USER reply",
        [
            .message(1, "user", \.user),
            .string(2, "validation_code", \.validationCode),
            .integer(3, "validation_expires_at", \.validationExpiresAt),
        ])
}

/// Profile fields, under USER's tags: what CREATE_USER sets and UPDATE_USER changes. `nil`
/// leaves a field alone; in UPDATE_USER an empty string clears an optional one.
public struct ProfileFields: SchemaMessage {
    public var email: String?
    public var displayName: String?
    public var roles: [String] = []
    public var phone: String?
    public var imageURL: String?
    /// 0 user, 1 service account.
    public var accountType: UInt8?
    public var rootRole: String?
    public var externalID: String?
    public var settings: [String: String] = [:]
    /// Set (added or replaced by name); the others stay.
    public var attributes: [String: AttributeValue] = [:]

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "PROFILE",
        [
            .string(3, "email", \.email),
            .string(4, "display_name", \.displayName),
            .string(6, "role", \.roles),
            .string(8, "phone", \.phone),
            .string(9, "image_url", \.imageURL),
            .integer(10, "account_type", \.accountType, allowed: 0...1),
            .string(11, "root_role", \.rootRole),
            .string(12, "external_id", \.externalID),
            .settings(16, "setting", \.settings),
            .attributes(17, "attribute", \.attributes),
        ])
}

/// CREATE_USER request (opcode 0x10): the username, the profile fields under USER's tags, then
/// the operation's own fields from tag 32.
public struct CreateUserRequest: SchemaMessage {
    public var username = ""
    public var profile = ProfileFields()
    public var password: [UInt8] = []
    /// Create the account unvalidated: the reply carries a validation code.
    public var unvalidated = false

    public init() {}

    public init(
        username: String, password: [UInt8], email: String? = nil, displayName: String? = nil, roles: [String] = [],
        profile: ProfileFields = ProfileFields(), unvalidated: Bool = false
    ) {
        self.username = username
        self.password = password
        self.profile = profile
        if let email { self.profile.email = email }
        if let displayName { self.profile.displayName = displayName }
        if !roles.isEmpty { self.profile.roles = roles }
        self.unvalidated = unvalidated
    }

    public static let schema = MessageSchema<Self>(
        "CREATE_USER request",
        {
            var fields: [Field<Self>] = [.string(2, "username", \.username)]
            fields += ProfileFields.schema.fields.map { .embedding($0, at: \.profile) }
            fields += [
                .bytes(32, "password", \.password),
                .flag(33, "unvalidated", \.unvalidated),
            ]
            return fields
        }())
}

/// UPDATE_USER request (opcode 0x14): the user, then its changes as a nested PROFILE. Roles
/// given replace the roles (`replace_roles` = 1 with none clears them); settings likewise.
/// Attributes given are set one by one, and those named by `remove_attribute` removed.
public struct UpdateUserRequest: SchemaMessage {
    public var user = UserSelector()
    public var changes = ProfileFields()
    public var replaceRoles = false
    public var replaceSettings = false
    public var removedAttributes: [String] = []

    public init() {}

    /// `roles`: `nil` leaves them alone; `settings`: `nil` leaves them alone.
    public init(
        user: UserSelector, changes: ProfileFields = ProfileFields(), roles: [String]? = nil, settings: [String: String]? = nil,
        removingAttributes: [String] = []
    ) {
        self.user = user
        self.changes = changes
        removedAttributes = removingAttributes
        if let roles {
            self.changes.roles = roles
            replaceRoles = true
        }
        if let settings {
            self.changes.settings = settings
            replaceSettings = true
        }
    }

    /// The new roles, or `nil` when they stay.
    public var roles: [String]? { replaceRoles || !changes.roles.isEmpty ? changes.roles : nil }
    /// The new settings, or `nil` when they stay.
    public var settings: [String: String]? { replaceSettings || !changes.settings.isEmpty ? changes.settings : nil }

    public static let schema = MessageSchema<Self>(
        "UPDATE_USER request",
        Field<Self>.userSelector(\.user) + [
            .message(32, "changes", \.changes),
            .flag(33, "replace_roles", \.replaceRoles),
            .flag(34, "replace_settings", \.replaceSettings),
            .string(35, "remove_attribute", \.removedAttributes),
        ])
}

/// SET_USER_STATE request (opcode 0x12): the user and its new state.
public struct SetUserStateRequest: SchemaMessage {
    public var user: UserSelector
    /// 0 active, 1 unvalidated, 2 disabled.
    public var state: UInt8

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "SET_USER_STATE request",
        Field<Self>.userSelector(\.user) + [
            .integer(32, "state", \.state, allowed: 0...2)
        ])
}

/// SET_PASSWORD request (opcode 0x16): the user and its new password (an administrator's reset).
public struct SetPasswordRequest: SchemaMessage {
    public var user: UserSelector
    public var password: [UInt8]

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "SET_PASSWORD request",
        Field<Self>.userSelector(\.user) + [
            .bytes(32, "password", \.password)
        ])
}

/// SET_PASSWORD reply (opcode 0x16): what the reset ended.
public struct SetPasswordResponse: SchemaMessage {
    public var sessions: UInt32
    public var apiKeys: UInt32

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "SET_PASSWORD reply",
        [
            .integer(1, "sessions", \.sessions),
            .integer(2, "api_keys", \.apiKeys),
        ])
}

/// CHANGE_PASSWORD request (opcode 0x15): one's own password, with the session token and the
/// current password.
public struct ChangePasswordRequest: SchemaMessage {
    public var token: String
    public var currentPassword: [UInt8]
    public var newPassword: [UInt8]

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "CHANGE_PASSWORD request",
        [
            .string(1, "token", \.token),
            .bytes(2, "current_password", \.currentPassword),
            .bytes(3, "new_password", \.newPassword),
        ])
}

/// VALIDATE request (opcode 0x19): the code from CREATE_USER's reply or an
/// `account-not-validated` error.
public struct ValidateRequest: SchemaMessage {
    public var code: String

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "VALIDATE request",
        [
            .string(1, "code", \.code)
        ])
}

/// LIST_USERS request (opcode 0x18): users in id order after `after_id`, at most `limit`.
public struct ListUsersRequest: SchemaMessage {
    public var afterID: UInt64 = 0
    public var limit: UInt32 = 100

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LIST_USERS request",
        [
            .integer(1, "after_id", \.afterID, default: 0),
            .integer(2, "limit", \.limit, default: 100, allowed: 1...1000),
        ])
}

/// LIST_USERS reply: a page of users; `next_after_id` when more may follow.
public struct UserListResponse: SchemaMessage {
    public var users: [UserInfo]
    public var nextAfterID: UInt64?

    public init() { self.init(zeroed: ()) }

    public static let schema = MessageSchema<Self>(
        "LIST_USERS reply",
        [
            .message(1, "user", \.users),
            .integer(2, "next_after_id", \.nextAfterID),
        ])
}
