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
        try decodeFields(body, repeated: [6]) { tag, value in
            switch tag {
            case 1: id = try value.fieldInteger(tag)
            case 2: username = try value.fieldString(tag)
            case 3: email = try value.fieldString(tag)
            case 4: displayName = try value.fieldString(tag)
            case 5: created = try value.fieldInteger(tag)
            case 6: roles.append(try value.fieldString(tag))
            case 7: state = try value.fieldInteger(tag)
            default: break
            }
        }
        self.state = state
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

    public init(username: String, password: [UInt8], email: String? = nil, displayName: String? = nil, roles: [String] = []) {
        self.username = username
        self.password = password
        self.email = email
        self.displayName = displayName
        self.roles = roles
    }

    public init(decoding body: ByteBuffer) throws {
        var username: String?, password: [UInt8]?, email: String?, displayName: String?
        var roles: [String] = []
        try decodeFields(body, repeated: [5]) { tag, value in
            switch tag {
            case 1: username = try value.fieldString(tag)
            case 2: password = value.fieldBytes()
            case 3: email = try value.fieldString(tag)
            case 4: displayName = try value.fieldString(tag)
            case 5: roles.append(try value.fieldString(tag))
            default: break
            }
        }
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
    }
}

/// GET_USER request (opcode 0x11): exactly one of tag 1 (id, u64), 2 (username) or 3 (email).
public enum GetUserRequest: WireMessage {
    case id(UInt64)
    case username(String)
    case email(String)

    public init(decoding body: ByteBuffer) throws {
        var found: GetUserRequest?
        try decodeFields(body) { tag, value in
            let key: GetUserRequest
            switch tag {
            case 1: key = .id(try value.fieldInteger(tag))
            case 2: key = .username(try value.fieldString(tag))
            case 3: key = .email(try value.fieldString(tag))
            default: return
            }
            guard found == nil else { throw ProtocolError.invalidValue("give exactly one of id, username or email") }
            found = key
        }
        self = try required(found, "id, username or email")
    }

    public func encode(into buffer: inout ByteBuffer) {
        switch self {
        case .id(let id): buffer.writeField(1, integer: id)
        case .username(let name): buffer.writeField(2, string: name)
        case .email(let email): buffer.writeField(3, string: email)
        }
    }
}

/// Reply of CREATE_USER and GET_USER: tag 1 holds a ``UserInfo``.
public struct UserResponse: WireMessage {
    public var user: UserInfo

    public init(user: UserInfo) { self.user = user }

    public init(decoding body: ByteBuffer) throws {
        var user: UserInfo?
        try decodeFields(body) { tag, value in
            if tag == 1 { user = try UserInfo(decoding: value) }
        }
        self.user = try required(user, "user")
    }

    public func encode(into buffer: inout ByteBuffer) {
        buffer.writeField(1) { user.encode(into: &$0) }
    }
}
