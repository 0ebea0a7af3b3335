import TesseraModel

/// A user as stored in the `users` database, keyed by its id (u64 big-endian).
///
/// Layout, version 1:
/// ```
/// u8 version=1 | u64 id | i64 created_at | i64 updated_at | u8 state
/// | u16 len + password hash | u16 len + username | u16 len + email (0 = none)
/// | u16 len + display name (0 = none) | u8 count + (u8 len + role)*
/// then, appended later (absent from older records, read as defaults):
/// | u16 len + phone | u16 len + image URL | u8 account type | u16 len + root role
/// | u16 len + external id | i64 last_login_at | u16 count + (u16 len + key, u16 len + value)*
/// | u8 len + validation code digest (0 or 32) | u32 credentials epoch
/// | i64 validation code expiry (absent: a code issued before codes expired, which no longer works)
/// | u8 count + (u16 len + name, u8 kind, value)*  attributes, in name order; kind 0 string
///   (u16 len + UTF-8), 1 number (u64 IEEE 754 bits), 2 bool (u8), 3 date (i64 Unix ms)
/// ```
package struct UserRecord: Sendable, Equatable {
    static let version: UInt8 = 1

    package var id: UInt64
    package var createdAt: Timestamp
    package var updatedAt: Timestamp
    package var state: AccountState
    /// The argon2id string (`$argon2id$v=19$...`). Never leaves the daemon.
    package var passwordHash: String
    package var username: String
    package var email: String?
    package var displayName: String?
    package var roles: [String]
    package var phone: String?
    package var imageURL: String?
    package var accountType: AccountType = .user
    package var rootRole: String?
    package var externalID: String?
    package var lastLoginAt: Timestamp = 0
    package var settings: [String: String] = [:]
    /// Keyed digest of the pending validation code of an unvalidated account (empty when none).
    var validationDigest: [UInt8] = []
    /// When the pending validation code stops working.
    var validationExpiresAt: Timestamp = 0
    /// Moves on every event that must end all of the user's sessions (a password change or
    /// reset, "log out everywhere", leaving the active state). A refresh family opened under an
    /// older epoch is revoked, wherever its access session is, swept ones included.
    var credentialsEpoch: UInt32 = 0
    /// Named, typed profile data (``AttributeLimits``).
    package var attributes: [String: AttributeValue] = [:]

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
        writer.write(string: phone)
        writer.write(string: imageURL)
        writer.write(accountType.rawValue)
        writer.write(string: rootRole)
        writer.write(string: externalID)
        writer.write(lastLoginAt)
        writer.write(UInt16(settings.count))
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            writer.write(string: key)
            writer.write(string: value)
        }
        writer.write(UInt8(validationDigest.count))
        writer.write(raw: validationDigest)
        writer.write(credentialsEpoch)
        writer.write(validationExpiresAt)
        writer.write(UInt8(attributes.count))
        for (name, value) in attributes.sorted(by: { $0.key < $1.key }) {
            writer.write(string: name)
            switch value {
            case .string(let text):
                writer.write(UInt8(0))
                writer.write(string: text)
            case .number(let number):
                writer.write(UInt8(1))
                writer.write(number.bitPattern)
            case .bool(let flag):
                writer.write(UInt8(2))
                writer.write(UInt8(flag ? 1 : 0))
            case .date(let milliseconds):
                writer.write(UInt8(3))
                writer.write(milliseconds)
            }
        }
        return writer.bytes
    }

    init(
        id: UInt64, createdAt: Timestamp, updatedAt: Timestamp, state: AccountState, passwordHash: String,
        username: String, email: String?, displayName: String?, roles: [String]
    ) {
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
        guard !reader.isAtEnd else { return }
        phone = try reader.readString()
        imageURL = try reader.readString()
        accountType = AccountType(rawValue: try reader.read()) ?? .user
        rootRole = try reader.readString()
        externalID = try reader.readString()
        lastLoginAt = try reader.read()
        let count = Int(try reader.read(UInt16.self))
        for _ in 0..<count {
            let key = try reader.readString() ?? ""
            settings[key] = try reader.readString() ?? ""
        }
        validationDigest = Array(try reader.read(raw: Int(try reader.read(UInt8.self))))
        guard !reader.isAtEnd else { return }
        credentialsEpoch = try reader.read()
        guard !reader.isAtEnd else { return }
        validationExpiresAt = try reader.read()
        guard !reader.isAtEnd else { return }
        for _ in 0..<Int(try reader.read(UInt8.self)) {
            let name = try reader.readString() ?? ""
            attributes[name] =
                switch try reader.read(UInt8.self) {
                case 0: .string(try reader.readString() ?? "")
                case 1: .number(Double(bitPattern: try reader.read(UInt64.self)))
                case 2: .bool(try reader.read(UInt8.self) != 0)
                case 3: .date(milliseconds: try reader.read(Int64.self))
                default: throw RecordError.truncated
                }
        }
    }

    /// The user as reported to clients (no hash).
    package var profile: UserProfile {
        UserProfile(
            id: id, username: username, email: email, displayName: displayName, createdAt: createdAt, roles: roles, state: state,
            phone: phone, imageURL: imageURL, accountType: accountType, rootRole: rootRole, externalID: externalID,
            updatedAt: updatedAt, lastLoginAt: lastLoginAt, settings: settings, attributes: attributes)
    }
}

/// What clients may see of a user.
@_spi(TesseraInternal) public struct UserProfile: Sendable, Equatable {
    @_spi(TesseraInternal) public var id: UInt64
    package var username: String
    package var email: String?
    package var displayName: String?
    package var createdAt: Timestamp
    package var roles: [String]
    package var state: AccountState
    package var phone: String?
    package var imageURL: String?
    package var accountType: AccountType
    package var rootRole: String?
    package var externalID: String?
    package var updatedAt: Timestamp
    /// The last successful login (0: never).
    package var lastLoginAt: Timestamp
    package var settings: [String: String]
    package var attributes: [String: AttributeValue]
    /// Consecutive failed logins (from the throttle); filled where the service reads it.
    package var failedLogins: UInt32 = 0
}

extension UserRecord {
    /// Applies the fields `changes` sets (email and phone are handled with their indexes):
    /// attributes are set and removed by name, and what results must fit ``AttributeLimits``.
    mutating func apply(_ changes: ProfileChanges) throws(AuthError) {
        func cleared(_ value: String?) -> String?? { value.map { $0.isEmpty ? nil : $0 } }
        if let name = cleared(changes.displayName) { displayName = name }
        if let url = cleared(changes.imageURL) { imageURL = url }
        if let type = changes.accountType { accountType = type }
        if let role = cleared(changes.rootRole) { rootRole = role }
        if let id = cleared(changes.externalID) { externalID = id }
        if let roles = changes.roles { self.roles = roles }
        if let settings = changes.settings { self.settings = settings }
        guard !changes.attributes.isEmpty || !changes.removedAttributes.isEmpty else { return }
        var attributes = self.attributes.merging(changes.attributes) { $1 }
        for name in changes.removedAttributes { attributes[name] = nil }
        if let problem = AttributeLimits.problem(with: attributes) { throw .invalidArgument(problem) }
        self.attributes = attributes
    }
}
