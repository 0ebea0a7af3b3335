import NIOCore

/// A user as the server reports it (never with a password hash).
public struct UserInfo: WireMessage {
    /// Tag 1, u64.
    public var id: UInt64
    /// Tag 2, string.
    public var username: String
    /// Tag 3, string, optional.
    public var email: String?
    /// Tag 4, string, optional.
    public var displayName: String?
    /// Tag 5, i64: Unix time in milliseconds.
    public var createdAt: Int64
    /// Tag 6, string, repeated.
    public var roles: [String]
    /// Tag 7, u8, optional: 0 active, 1 unvalidated, 2 disabled.
    public var state: UInt8?
    /// Tag 8, string, optional: E.164 phone number.
    public var phone: String?
    /// Tag 9, string, optional.
    public var imageURL: String?
    /// Tag 10, u8, optional: 0 user, 1 service account.
    public var accountType: UInt8?
    /// Tag 11, string, optional.
    public var rootRole: String?
    /// Tag 12, string, optional: an external (SCIM) id.
    public var externalID: String?
    /// Tag 13, i64, optional.
    public var updatedAt: Int64?
    /// Tag 14, i64, optional: the last successful login.
    public var lastLoginAt: Int64?
    /// Tag 15, u32, optional: consecutive failed logins.
    public var failedLogins: UInt32?
    /// Tag 16, repeated: a setting each, a nested message of tag 1 key and tag 2 value.
    public var settings: [String: String] = [:]

    public init(id: UInt64, username: String, email: String? = nil, displayName: String? = nil, createdAt: Int64, roles: [String] = [], state: UInt8? = nil) {
        self.id = id
        self.username = username
        self.email = email
        self.displayName = displayName
        self.createdAt = createdAt
        self.roles = roles
        self.state = state
    }

    public init(decoding body: ByteBuffer) throws {
        var id: UInt64?, username: String?, created: Int64?, email: String?, displayName: String?, state: UInt8?
        var roles: [String] = []
        var extra = UserInfo(id: 0, username: "", createdAt: 0)
        try decodeFields(body, repeated: [6, 16]) { tag, value in
            switch tag {
            case 1: id = try value.fieldInteger(tag)
            case 2: username = try value.fieldString(tag)
            case 3: email = try value.fieldString(tag)
            case 4: displayName = try value.fieldString(tag)
            case 5: created = try value.fieldInteger(tag)
            case 6: roles.append(try value.fieldString(tag))
            case 7: state = try value.fieldInteger(tag)
            case 8: extra.phone = try value.fieldString(tag)
            case 9: extra.imageURL = try value.fieldString(tag)
            case 10: extra.accountType = try value.fieldInteger(tag)
            case 11: extra.rootRole = try value.fieldString(tag)
            case 12: extra.externalID = try value.fieldString(tag)
            case 13: extra.updatedAt = try value.fieldInteger(tag)
            case 14: extra.lastLoginAt = try value.fieldInteger(tag)
            case 15: extra.failedLogins = try value.fieldInteger(tag)
            case 16:
                let (key, setting) = try Setting.decode(value)
                extra.settings[key] = setting
            default: break
            }
        }
        self.state = state
        phone = extra.phone
        imageURL = extra.imageURL
        accountType = extra.accountType
        rootRole = extra.rootRole
        externalID = extra.externalID
        updatedAt = extra.updatedAt
        lastLoginAt = extra.lastLoginAt
        failedLogins = extra.failedLogins
        settings = extra.settings
        self.id = try required(id, "id")
        self.username = try required(username, "username")
        self.createdAt = try required(created, "created_at")
        self.email = email
        self.displayName = displayName
        self.roles = roles
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, integer: id)
        buffer.writeField(2, string: username)
        if let email { buffer.writeField(3, string: email) }
        if let displayName { buffer.writeField(4, string: displayName) }
        buffer.writeField(5, integer: createdAt)
        for role in roles { buffer.writeField(6, string: role) }
        if let state { buffer.writeField(7, integer: state) }
        if let phone { buffer.writeField(8, string: phone) }
        if let imageURL { buffer.writeField(9, string: imageURL) }
        if let accountType { buffer.writeField(10, integer: accountType) }
        if let rootRole { buffer.writeField(11, string: rootRole) }
        if let externalID { buffer.writeField(12, string: externalID) }
        if let updatedAt { buffer.writeField(13, integer: updatedAt) }
        if let lastLoginAt { buffer.writeField(14, integer: lastLoginAt) }
        if let failedLogins { buffer.writeField(15, integer: failedLogins) }
        Setting.encode(settings, tag: 16, into: &buffer)
    }
}

/// A key/value setting: a nested message of tag 1 `key` and tag 2 `value` (strings).
public enum Setting {
    static func decode(_ value: ByteBuffer) throws -> (String, String) {
        var key: String?, setting: String?
        try decodeFields(value) { tag, field in
            switch tag {
            case 1: key = try field.fieldString(tag)
            case 2: setting = try field.fieldString(tag)
            default: break
            }
        }
        return (try required(key, "setting key"), setting ?? "")
    }

    /// Writes each setting as a `tag` field, in key order.
    static func encode(_ settings: [String: String], tag: UInt8, into buffer: inout ByteBuffer) {
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            buffer.writeField(tag) {
                $0.writeField(1, string: key)
                $0.writeField(2, string: value)
            }
        }
    }
}

/// CREATE_USER request (opcode 0x10).
public struct CreateUserRequest: WireMessage {
    /// Tag 1, string.
    public var username: String
    /// Tag 2, bytes: the password.
    public var password: [UInt8]
    /// Tag 3, string, optional.
    public var email: String?
    /// Tag 4, string, optional.
    public var displayName: String?
    /// Tag 5, string, repeated.
    public var roles: [String]
    /// Tags 6 phone, 7 image_url, 8 account_type (u8), 9 root_role, 10 external_id,
    /// 11 setting (repeated): optional profile fields, as in USER.
    public var profile = ProfileFields()
    /// Tag 12, u8, optional: 1 = create the account unvalidated; the reply carries a validation code.
    public var unvalidated = false

    public init(username: String, password: [UInt8], email: String? = nil, displayName: String? = nil, roles: [String] = [],
                profile: ProfileFields = ProfileFields(), unvalidated: Bool = false) {
        self.username = username
        self.password = password
        self.email = email
        self.displayName = displayName
        self.roles = roles
        self.profile = profile
        self.unvalidated = unvalidated
    }

    public init(decoding body: ByteBuffer) throws {
        var username: String?, password: [UInt8]?, email: String?, displayName: String?
        var roles: [String] = []
        var profile = ProfileFields()
        var unvalidated = false
        try decodeFields(body, repeated: [5, 11]) { tag, value in
            switch tag {
            case 1: username = try value.fieldString(tag)
            case 2: password = value.fieldBytes()
            case 3: email = try value.fieldString(tag)
            case 4: displayName = try value.fieldString(tag)
            case 5: roles.append(try value.fieldString(tag))
            case 6: profile.phone = try value.fieldString(tag)
            case 7: profile.imageURL = try value.fieldString(tag)
            case 8: profile.accountType = try value.fieldInteger(tag)
            case 9: profile.rootRole = try value.fieldString(tag)
            case 10: profile.externalID = try value.fieldString(tag)
            case 11:
                let (key, setting) = try Setting.decode(value)
                profile.settings = (profile.settings ?? [:]).merging([key: setting]) { $1 }
            case 12: unvalidated = try value.fieldInteger(tag, as: UInt8.self) == 1
            default: break
            }
        }
        self.profile = profile
        self.unvalidated = unvalidated
        self.username = try required(username, "username")
        self.password = try required(password, "password")
        self.email = email
        self.displayName = displayName
        self.roles = roles
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: username)
        buffer.writeField(2, bytes: password)
        if let email { buffer.writeField(3, string: email) }
        if let displayName { buffer.writeField(4, string: displayName) }
        for role in roles { buffer.writeField(5, string: role) }
        if let phone = profile.phone { buffer.writeField(6, string: phone) }
        if let url = profile.imageURL { buffer.writeField(7, string: url) }
        if let type = profile.accountType { buffer.writeField(8, integer: type) }
        if let role = profile.rootRole { buffer.writeField(9, string: role) }
        if let id = profile.externalID { buffer.writeField(10, string: id) }
        Setting.encode(profile.settings ?? [:], tag: 11, into: &buffer)
        if unvalidated { buffer.writeField(12, integer: UInt8(1)) }
    }
}

/// Optional profile fields of CREATE_USER and UPDATE_USER. `nil`: not given.
public struct ProfileFields: Sendable, Equatable {
    public var phone: String?
    public var imageURL: String?
    public var accountType: UInt8?
    public var rootRole: String?
    public var externalID: String?
    public var settings: [String: String]?

    public init(phone: String? = nil, imageURL: String? = nil, accountType: UInt8? = nil, rootRole: String? = nil,
                externalID: String? = nil, settings: [String: String]? = nil) {
        self.phone = phone
        self.imageURL = imageURL
        self.accountType = accountType
        self.rootRole = rootRole
        self.externalID = externalID
        self.settings = settings
    }
}

/// UPDATE_USER request (opcode 0x14): the user as in GET_USER, then the changes. An absent
/// field is left alone; an empty string clears an optional field.
///
/// Tags: 20 email, 21 display_name, 22 phone, 23 image_url, 24 account_type (u8), 25 root_role,
/// 26 external_id, 27 role (repeated) with 28 replace_roles (u8 = 1, needed to set an empty
/// list), 29 setting (repeated) with 30 replace_settings (u8 = 1). Reply: a USER.
public struct UpdateUserRequest: WireMessage {
    public var user: GetUserRequest
    public var email: String?
    public var displayName: String?
    public var profile: ProfileFields
    /// `nil`: roles unchanged.
    public var roles: [String]?

    public init(user: GetUserRequest, email: String? = nil, displayName: String? = nil, profile: ProfileFields = ProfileFields(), roles: [String]? = nil) {
        self.user = user
        self.email = email
        self.displayName = displayName
        self.profile = profile
        self.roles = roles
    }

    public init(decoding body: ByteBuffer) throws {
        user = try GetUserRequest(decoding: body)
        var email: String?, displayName: String?, profile = ProfileFields()
        var roles: [String] = [], replaceRoles = false, settings: [String: String] = [:], replaceSettings = false
        try decodeFields(body, repeated: [27, 29]) { tag, value in
            switch tag {
            case 20: email = try value.fieldString(tag)
            case 21: displayName = try value.fieldString(tag)
            case 22: profile.phone = try value.fieldString(tag)
            case 23: profile.imageURL = try value.fieldString(tag)
            case 24: profile.accountType = try value.fieldInteger(tag)
            case 25: profile.rootRole = try value.fieldString(tag)
            case 26: profile.externalID = try value.fieldString(tag)
            case 27: roles.append(try value.fieldString(tag)); replaceRoles = true
            case 28: replaceRoles = try value.fieldInteger(tag, as: UInt8.self) == 1 || replaceRoles
            case 29:
                let (key, setting) = try Setting.decode(value)
                settings[key] = setting
                replaceSettings = true
            case 30: replaceSettings = try value.fieldInteger(tag, as: UInt8.self) == 1 || replaceSettings
            default: break
            }
        }
        if replaceSettings { profile.settings = settings }
        self.email = email
        self.displayName = displayName
        self.profile = profile
        self.roles = replaceRoles ? roles : nil
    }

    public func encode(into buffer: inout ByteBuffer) {
        user.encode(into: &buffer)
        if let email { buffer.writeField(20, string: email) }
        if let displayName { buffer.writeField(21, string: displayName) }
        if let phone = profile.phone { buffer.writeField(22, string: phone) }
        if let url = profile.imageURL { buffer.writeField(23, string: url) }
        if let type = profile.accountType { buffer.writeField(24, integer: type) }
        if let role = profile.rootRole { buffer.writeField(25, string: role) }
        if let id = profile.externalID { buffer.writeField(26, string: id) }
        if let roles {
            for role in roles { buffer.writeField(27, string: role) }
            buffer.writeField(28, integer: UInt8(1))
        }
        if let settings = profile.settings {
            Setting.encode(settings, tag: 29, into: &buffer)
            buffer.writeField(30, integer: UInt8(1))
        }
    }
}

/// VALIDATE request (opcode 0x19): tag 1 `code` string, from CREATE_USER's reply or an
/// `account-not-validated` error. Reply: a USER, now active.
public struct ValidateRequest: WireMessage {
    public var code: String

    public init(code: String) { self.code = code }

    public init(decoding body: ByteBuffer) throws {
        var code: String?
        try decodeFields(body) { tag, value in if tag == 1 { code = try value.fieldString(tag) } }
        self.code = try required(code, "code")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1, string: code)
    }
}

/// GET_USER request (opcode 0x11): exactly one of tag 1 (id, u64), 2 (username), 3 (email)
/// or 9 (phone). Other operations that name a user embed these same tags.
public enum GetUserRequest: WireMessage {
    case id(UInt64)
    case username(String)
    case email(String)
    case phone(String)

    public init(decoding body: ByteBuffer) throws {
        // Only this message's own tags are examined: messages that embed a user lookup carry
        // their other fields (some repeated) in the same body.
        var reader = FieldReader(body)
        var found: GetUserRequest?
        while let (tag, value) = try reader.next() {
            let key: GetUserRequest
            switch tag {
            case 1: key = .id(try value.fieldInteger(tag))
            case 2: key = .username(try value.fieldString(tag))
            case 3: key = .email(try value.fieldString(tag))
            case 9: key = .phone(try value.fieldString(tag))
            default: continue
            }
            guard found == nil else { throw ProtocolError.invalidValue("give exactly one of id, username, email or phone") }
            found = key
        }
        self = try required(found, "id, username, email or phone")
    }

    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .id(let id): buffer.writeField(1, integer: id)
        case .username(let name): buffer.writeField(2, string: name)
        case .email(let email): buffer.writeField(3, string: email)
        case .phone(let phone): buffer.writeField(9, string: phone)
        }
    }
}

/// Reply of CREATE_USER and GET_USER: tag 1 holds a ``UserInfo``.
public struct UserResponse: WireMessage {
    public var user: UserInfo
    /// Tag 2, string, optional: the validation code of an account created unvalidated.
    public var validationCode: String?

    public init(user: UserInfo, validationCode: String? = nil) {
        self.user = user
        self.validationCode = validationCode
    }

    public init(decoding body: ByteBuffer) throws {
        var user: UserInfo?, code: String?
        try decodeFields(body) { tag, value in
            switch tag {
            case 1: user = try UserInfo(decoding: value)
            case 2: code = try value.fieldString(tag)
            default: break
            }
        }
        self.user = try required(user, "user")
        validationCode = code
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1) { user.encode(into: &$0) }
        if let validationCode { buffer.writeField(2, string: validationCode) }
    }
}
