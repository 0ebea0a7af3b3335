/// A user as stored in the `users` database, keyed by its id (u64 big-endian).
///
/// Layout, version 1:
/// ```
/// u8 version=1 | u64 id | i64 created_at | i64 updated_at | u8 state
/// | u16 len + password hash | u16 len + username | u16 len + email (0 = none)
/// | u16 len + display name (0 = none) | u8 count + (u8 len + role)*
/// ```
public struct UserRecord: Sendable, Equatable {
    static let version: UInt8 = 1

    public var id: UInt64
    public var createdAt: Timestamp
    public var updatedAt: Timestamp
    public var state: AccountState
    /// The argon2id string (`$argon2id$v=19$...`). Never leaves the daemon.
    public var passwordHash: String
    public var username: String
    public var email: String?
    public var displayName: String?
    public var roles: [String]

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: Self.version)
        writer.write(id)
        writer.write(createdAt)
        writer.write(updatedAt)
        writer.write(state.rawValue)
        writer.write(string: passwordHash)
        writer.write(string: username)
        writer.write(string: email)
        writer.write(string: displayName)
        writer.write(shortStrings: roles)
        return writer.bytes
    }

    init(id: UInt64, createdAt: Timestamp, updatedAt: Timestamp, state: AccountState, passwordHash: String,
         username: String, email: String?, displayName: String?, roles: [String]) {
        self.id = id
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.state = state
        self.passwordHash = passwordHash
        self.username = username
        self.email = email
        self.displayName = displayName
        self.roles = roles
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        let version = try reader.read(UInt8.self)
        guard version >= 1 else { throw RecordError.unknownVersion(version) }
        id = try reader.read()
        createdAt = try reader.read()
        updatedAt = try reader.read()
        state = AccountState(rawValue: try reader.read()) ?? .disabled
        passwordHash = try reader.readString() ?? ""
        username = try reader.readString() ?? ""
        email = try reader.readString()
        displayName = try reader.readString()
        roles = try reader.readShortStrings()
    }

    /// The user as reported to clients (no hash).
    public var profile: UserProfile {
        UserProfile(id: id, username: username, email: email, displayName: displayName, createdAt: createdAt, roles: roles, state: state)
    }
}

/// Whether an account may log in.
public enum AccountState: UInt8, Sendable {
    case active = 0
    case unvalidated = 1
    case disabled = 2
}

/// What clients may see of a user.
public struct UserProfile: Sendable, Equatable {
    public var id: UInt64
    public var username: String
    public var email: String?
    public var displayName: String?
    public var createdAt: Timestamp
    public var roles: [String]
    public var state: AccountState
}
