import Foundation
package import TesseraProtocol

/// A user brought from another system, for ``TesseraClient/importUsers(_:dryRun:source:position:)``:
/// its profile, its password hash exactly as that system stored it (bcrypt, sha512crypt,
/// yescrypt, PBKDF2-SHA-256, argon2, or one of them over the password's SHA-256 hex; see
/// `PROTOCOL.md` §7.13), its creation time and, optionally, a confirmed TOTP secret.
public struct ImportedUser: Sendable, Equatable {
    public var username: String
    public var email: String?
    public var displayName: String?
    public var roles: [String]
    public var phone: String?
    public var imageURL: String?
    public var accountType: AccountType?
    public var rootRole: String?
    public var externalID: String?
    public var settings: [String: String]
    public var state: AccountState
    /// `nil`: the time of the import.
    public var createdAt: Date?
    /// `nil`: no password; the user logs in once an administrator sets one.
    public var passwordHash: String?
    /// The raw TOTP secret (30-second steps), 10 to 64 bytes, of an enrolled second factor.
    public var totpSecret: [UInt8]?
    public var totpAlgorithm: TOTPAlgorithm
    /// 6 to 8.
    public var totpDigits: Int

    public init(
        username: String, email: String? = nil, displayName: String? = nil, roles: [String] = [], phone: String? = nil,
        imageURL: String? = nil, accountType: AccountType? = nil, rootRole: String? = nil, externalID: String? = nil,
        settings: [String: String] = [:], state: AccountState = .active, createdAt: Date? = nil, passwordHash: String? = nil,
        totpSecret: [UInt8]? = nil, totpAlgorithm: TOTPAlgorithm = .sha1, totpDigits: Int = 6
    ) {
        self.username = username
        self.email = email
        self.displayName = displayName
        self.roles = roles
        self.phone = phone
        self.imageURL = imageURL
        self.accountType = accountType
        self.rootRole = rootRole
        self.externalID = externalID
        self.settings = settings
        self.state = state
        self.createdAt = createdAt
        self.passwordHash = passwordHash
        self.totpSecret = totpSecret
        self.totpAlgorithm = totpAlgorithm
        self.totpDigits = totpDigits
    }

    init(_ wire: ImportedUserMessage) {
        let profile = wire.profile
        self.init(
            username: wire.username, email: profile.email, displayName: profile.displayName, roles: profile.roles, phone: profile.phone,
            imageURL: profile.imageURL, accountType: profile.accountType.flatMap(AccountType.init(rawValue:)), rootRole: profile.rootRole,
            externalID: profile.externalID, settings: profile.settings, state: AccountState(rawValue: wire.state) ?? .active,
            createdAt: wire.createdAt.map(Date.init(milliseconds:)), passwordHash: wire.passwordHash, totpSecret: wire.totpSecret,
            totpAlgorithm: TOTPAlgorithm(rawValue: wire.totpAlgorithm) ?? .sha1, totpDigits: Int(wire.totpDigits))
    }

    package var wire: ImportedUserMessage {
        ImportedUserMessage(
            username: username, profile: profileFields, createdAt: createdAt?.milliseconds, state: state.rawValue, passwordHash: passwordHash,
            totpSecret: totpSecret,
            totpAlgorithm: totpAlgorithm.rawValue, totpDigits: UInt8(clamping: totpDigits))
    }

    /// At least the bytes this record takes in an IMPORT_USERS frame (a batch must fit the
    /// server's maximum frame), counted without encoding it: every field's 3-byte header and
    /// value, the fixed-width ones as if all were present.
    public var encodedSize: Int {
        func field(_ text: String?) -> Int { text.map { 3 + $0.utf8.count } ?? 0 }
        var size = 3 + field(username) + field(email) + field(displayName) + field(phone) + field(imageURL) + field(rootRole)
        size += field(externalID) + field(passwordHash) + roles.reduce(0) { $0 + field($1) }
        size += settings.reduce(0) { $0 + 3 + field($1.key) + field($1.value) }
        size += (3 + 1) * 4 + (3 + 8) + (totpSecret.map { 3 + $0.count } ?? 0)
        return size
    }
}

extension ImportedUser: CarriesProfile {}

/// What an import batch did.
public struct ImportResult: Sendable, Equatable {
    /// Users written (with `dryRun`: that would be).
    public var created: Int
    /// Users that were there already (same username and external id), left as they are.
    public var unchanged: Int
    /// Records refused: their index in the batch and the reason.
    public var rejected: [Rejection]
    /// The position the server keeps for the batch's source.
    public var position: UInt64

    /// A refused record of the batch.
    public struct Rejection: Sendable, Equatable {
        /// Its place in the batch, from 0.
        public var index: Int
        /// What is wrong with it, for a person.
        public var reason: String
    }

    init(_ wire: ImportUsersResponse) {
        created = Int(wire.created)
        unchanged = Int(wire.unchanged)
        rejected = wire.rejected.map { Rejection(index: Int($0.index), reason: $0.reason) }
        position = wire.position
    }
}
