import TesseraProtocol

/// A user as the daemon reports it; never its password hash. Times are Unix milliseconds.
public struct User: Sendable, Equatable {
    public var id: UInt64
    public var username: String
    public var email: String?
    public var displayName: String?
    public var roles: [String]
    public var state: AccountState
    /// E.164.
    public var phone: String?
    public var imageURL: String?
    public var accountType: AccountType
    public var rootRole: String?
    /// An external (SCIM) id.
    public var externalID: String?
    public var createdAt: Int64
    public var updatedAt: Int64
    /// The last successful login; `nil` before the first.
    public var lastLoginAt: Int64?
    /// Consecutive failed logins.
    public var failedLogins: UInt32
    public var settings: [String: String]

    init(_ info: UserInfo) throws(TesseraClientError) {
        guard let state = AccountState(rawValue: info.state), let type = AccountType(rawValue: info.accountType) else {
            throw .malformedReply("user \(info.id) has state \(info.state) and account type \(info.accountType)")
        }
        id = info.id
        username = info.username
        email = info.email
        displayName = info.displayName
        roles = info.roles
        self.state = state
        phone = info.phone
        imageURL = info.imageURL
        accountType = type
        rootRole = info.rootRole
        externalID = info.externalID
        createdAt = info.createdAt
        updatedAt = info.updatedAt
        lastLoginAt = info.lastLoginAt
        failedLogins = info.failedLogins
        settings = info.settings
    }
}

/// A page of ``TesseraClient/listUsers(afterID:limit:)``.
public struct UserPage: Sendable, Equatable {
    /// In id order.
    public var users: [User]
    /// Pass as `afterID` for the next page; `nil` on the last page.
    public var nextAfterID: UInt64?
}

/// A new account, and the code that validates it when it was created unvalidated.
public struct Registration: Sendable, Equatable {
    public var user: User
    /// For VALIDATE; only for an account created unvalidated (or from NEW_VALIDATION_CODE).
    public var validationCode: String?
    /// When ``validationCode`` stops working, in milliseconds since the Unix epoch.
    public var validationExpiresAt: Int64?
}
