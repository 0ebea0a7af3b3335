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
    public var attributes: [String: AttributeValue]
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
    /// The other system's live login tokens: each verifies as a session of this user.
    public var sessions: [ImportedSession]
    /// The other system's personal access tokens: each verifies as an API key of this user.
    public var apiKeys: [ImportedAPIKey]
    /// SHA-256 of each unused backup code (32 bytes each), with ``totpSecret``: each works once
    /// as a recovery code.
    public var recoveryCodeSHA256: [[UInt8]]

    public init(
        username: String, email: String? = nil, displayName: String? = nil, roles: [String] = [], phone: String? = nil,
        imageURL: String? = nil, accountType: AccountType? = nil, rootRole: String? = nil, externalID: String? = nil,
        settings: [String: String] = [:], attributes: [String: AttributeValue] = [:], state: AccountState = .active, createdAt: Date? = nil,
        passwordHash: String? = nil,
        totpSecret: [UInt8]? = nil, totpAlgorithm: TOTPAlgorithm = .sha1, totpDigits: Int = 6, sessions: [ImportedSession] = [],
        apiKeys: [ImportedAPIKey] = [], recoveryCodeSHA256: [[UInt8]] = []
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
        self.attributes = attributes
        self.state = state
        self.createdAt = createdAt
        self.passwordHash = passwordHash
        self.totpSecret = totpSecret
        self.totpAlgorithm = totpAlgorithm
        self.totpDigits = totpDigits
        self.sessions = sessions
        self.apiKeys = apiKeys
        self.recoveryCodeSHA256 = recoveryCodeSHA256
    }

    init(_ wire: ImportedUserMessage) {
        let profile = wire.profile
        self.init(
            username: wire.username, email: profile.email, displayName: profile.displayName, roles: profile.roles, phone: profile.phone,
            imageURL: profile.imageURL, accountType: profile.accountType.flatMap(AccountType.init(rawValue:)), rootRole: profile.rootRole,
            externalID: profile.externalID, settings: profile.settings, attributes: profile.attributes,
            state: AccountState(rawValue: wire.state) ?? .active,
            createdAt: wire.createdAt.map(Date.init(milliseconds:)), passwordHash: wire.passwordHash, totpSecret: wire.totpSecret,
            totpAlgorithm: TOTPAlgorithm(rawValue: wire.totpAlgorithm) ?? .sha1, totpDigits: Int(wire.totpDigits),
            sessions: wire.sessions.map {
                ImportedSession(tokenSHA256: $0.tokenSHA256, createdAt: Date(milliseconds: $0.createdAt), expiresAt: Date(milliseconds: $0.expiresAt))
            },
            apiKeys: wire.apiKeys.map {
                ImportedAPIKey(
                    tokenSHA256: $0.tokenSHA256, name: $0.name, createdAt: Date(milliseconds: $0.createdAt),
                    expiresAt: $0.expiresAt == 0 ? nil : Date(milliseconds: $0.expiresAt))
            },
            recoveryCodeSHA256: stride(from: 0, to: wire.recoveryCodeSHA256.count / 32 * 32, by: 32).map {
                Array(wire.recoveryCodeSHA256[$0..<$0 + 32])
            })
    }

    package var wire: ImportedUserMessage {
        ImportedUserMessage(
            username: username, profile: profileFields, createdAt: createdAt?.milliseconds, state: state.rawValue, passwordHash: passwordHash,
            totpSecret: totpSecret,
            totpAlgorithm: totpAlgorithm.rawValue, totpDigits: UInt8(clamping: totpDigits),
            sessions: sessions.map {
                ImportedSessionMessage(tokenSHA256: $0.tokenSHA256, createdAt: $0.createdAt.milliseconds, expiresAt: $0.expiresAt.milliseconds)
            },
            apiKeys: apiKeys.map {
                ImportedAPIKeyMessage(
                    tokenSHA256: $0.tokenSHA256, name: $0.name, createdAt: $0.createdAt.milliseconds, expiresAt: $0.expiresAt?.milliseconds ?? 0)
            },
            recoveryCodeSHA256: recoveryCodeSHA256.flatMap { $0 })
    }

    /// At least the bytes this record takes in an IMPORT_USERS frame (a batch must fit the
    /// server's maximum frame), counted without encoding it: every field's 3-byte header and
    /// value, the fixed-width ones as if all were present.
    public var encodedSize: Int {
        func field(_ text: String?) -> Int { text.map { 3 + $0.utf8.count } ?? 0 }
        var size = 3 + field(username) + field(email) + field(displayName) + field(phone) + field(imageURL) + field(rootRole)
        size += field(externalID) + field(passwordHash) + roles.reduce(0) { $0 + field($1) }
        size += settings.reduce(0) { $0 + 3 + field($1.key) + field($1.value) }
        size += attributes.reduce(0) { $0 + 3 + field($1.key) + 3 + $1.value.countedBytes }
        size += (3 + 1) * 4 + (3 + 8) + (totpSecret.map { 3 + $0.count } ?? 0)
        size += sessions.count * (3 + 3 + 32 + 2 * (3 + 8)) + apiKeys.reduce(0) { $0 + 3 + 3 + 32 + 2 * (3 + 8) + field($1.name) }
        size += recoveryCodeSHA256.isEmpty ? 0 : 3 + 32 * recoveryCodeSHA256.count
        return size
    }
}

/// A login token another system issued, known by the SHA-256 of its text (what that system
/// stored: Rocket.Chat's `hashedToken` is its Base64). Imported, the same text verifies as a
/// session of its user until `expiresAt`; the daemon keeps only a keyed digest of the SHA-256.
public struct ImportedSession: Sendable, Equatable {
    /// 32 bytes.
    public var tokenSHA256: [UInt8]
    public var createdAt: Date
    public var expiresAt: Date

    public init(tokenSHA256: [UInt8], createdAt: Date, expiresAt: Date) {
        self.tokenSHA256 = tokenSHA256
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

/// A personal access token another system issued, known by the SHA-256 of its text. Imported,
/// the same text verifies as an API key of its user, with the user's roles as its permissions.
public struct ImportedAPIKey: Sendable, Equatable {
    /// 32 bytes.
    public var tokenSHA256: [UInt8]
    /// 1 to 64 bytes, shown in key lists.
    public var name: String
    public var createdAt: Date
    /// `nil`: never expires.
    public var expiresAt: Date?

    public init(tokenSHA256: [UInt8], name: String, createdAt: Date, expiresAt: Date? = nil) {
        self.tokenSHA256 = tokenSHA256
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
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
    /// Imported tokens written as sessions, and as API keys (not those expired, nor a token
    /// imported before).
    public var sessions: Int
    public var apiKeys: Int

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
        sessions = Int(wire.sessions)
        apiKeys = Int(wire.apiKeys)
    }
}
