import Foundation
package import TesseraProtocol

/// A user as the daemon reports it; never its password hash.
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
    public var createdAt: Date
    public var updatedAt: Date
    /// The last successful login; `nil` before the first.
    public var lastLoginAt: Date?
    /// Consecutive failed logins.
    public var failedLogins: UInt32
    public var settings: [String: String]
    /// Named, typed profile data (within `AttributeLimits`); the user may set its own.
    public var attributes: [String: AttributeValue]

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
        createdAt = Date(milliseconds: info.createdAt)
        updatedAt = Date(milliseconds: info.updatedAt)
        lastLoginAt = info.lastLoginAt.map(Date.init(milliseconds:))
        failedLogins = info.failedLogins
        settings = info.settings
        attributes = info.attributes
    }
}

/// Names one user: by id, username or email (these two ignoring case), phone, or the user of a
/// live session token (or JWT, or API key where the operation only reads). A web process
/// (an application peer) names users by `sessionToken` only, except for
/// ``TesseraClient/newValidationCode(for:)``.
public enum UserSelector: Sendable, Hashable {
    case id(UInt64)
    case username(String)
    case email(String)
    case phone(String)
    case sessionToken(String)

    /// An identifier as an operator types it: an email when it holds `@`, a phone when it
    /// starts with `+`, else a username.
    public static func lookup(_ identifier: String) -> UserSelector {
        if identifier.contains("@") { return .email(identifier) }
        if identifier.hasPrefix("+") { return .phone(identifier) }
        return .username(identifier)
    }

    package var wire: TesseraProtocol.UserSelector {
        switch self {
        case .id(let id): .id(id)
        case .username(let name): .username(name)
        case .email(let email): .email(email)
        case .phone(let phone): .phone(phone)
        case .sessionToken(let token): .sessionToken(token)
        }
    }
}

/// A new account for ``TesseraClient/register(_:)``. From a web process (an application peer)
/// only the username, password, email, display name, phone, image URL, settings and attributes
/// may be set;
/// roles, the account type, the root role and the external id are an administrator's.
public struct NewUser: Sendable {
    public var username: String
    /// Overwrite it after the call.
    public var password: [UInt8]
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
    /// Create the account unvalidated: the registration carries its validation code.
    public var unvalidated: Bool

    public init(
        username: String, password: [UInt8], email: String? = nil, displayName: String? = nil, roles: [String] = [], phone: String? = nil,
        imageURL: String? = nil, accountType: AccountType? = nil, rootRole: String? = nil, externalID: String? = nil,
        settings: [String: String] = [:], attributes: [String: AttributeValue] = [:], unvalidated: Bool = false
    ) {
        self.username = username
        self.password = password
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
        self.unvalidated = unvalidated
    }

    var wire: CreateUserRequest {
        CreateUserRequest(username: username, password: password, profile: profileFields, unvalidated: unvalidated)
    }
}

/// The profile fields a new user and an imported one both carry, under the same names: one
/// conversion to the wire's PROFILE.
protocol CarriesProfile {
    var email: String? { get }
    var displayName: String? { get }
    var roles: [String] { get }
    var phone: String? { get }
    var imageURL: String? { get }
    var accountType: AccountType? { get }
    var rootRole: String? { get }
    var externalID: String? { get }
    var settings: [String: String] { get }
    var attributes: [String: AttributeValue] { get }
}

extension CarriesProfile {
    var profileFields: ProfileFields {
        ProfileFields(
            email: email, displayName: displayName, roles: roles, phone: phone, imageURL: imageURL, accountType: accountType?.rawValue,
            rootRole: rootRole, externalID: externalID, settings: settings, attributes: attributes)
    }
}

extension NewUser: CarriesProfile {}

/// Changes to a user's profile for ``TesseraClient/updateUser(_:_:)``: `nil` leaves a field
/// alone, an empty string clears an optional one. From a web process only the email, display
/// name, phone, image URL, settings and attributes may change.
public struct ProfileUpdate: Sendable {
    public var email: String?
    public var displayName: String?
    public var phone: String?
    public var imageURL: String?
    public var accountType: AccountType?
    public var rootRole: String?
    public var externalID: String?
    /// The new roles (an empty list removes them all), or `nil` to keep them.
    public var roles: [String]?
    /// The new settings (replacing them all), or `nil` to keep them.
    public var settings: [String: String]?
    /// Attributes to set, each added or replaced by name; the user's others stay.
    public var attributes: [String: AttributeValue]
    /// Attributes to remove, by name.
    public var removingAttributes: [String]

    public init(
        email: String? = nil, displayName: String? = nil, phone: String? = nil, imageURL: String? = nil, accountType: AccountType? = nil,
        rootRole: String? = nil, externalID: String? = nil, roles: [String]? = nil, settings: [String: String]? = nil,
        attributes: [String: AttributeValue] = [:], removingAttributes: [String] = []
    ) {
        self.email = email
        self.displayName = displayName
        self.phone = phone
        self.imageURL = imageURL
        self.accountType = accountType
        self.rootRole = rootRole
        self.externalID = externalID
        self.roles = roles
        self.settings = settings
        self.attributes = attributes
        self.removingAttributes = removingAttributes
    }

    func wire(for user: UserSelector) -> UpdateUserRequest {
        UpdateUserRequest(
            user: user.wire,
            changes: ProfileFields(
                email: email, displayName: displayName, phone: phone, imageURL: imageURL, accountType: accountType?.rawValue, rootRole: rootRole,
                externalID: externalID, attributes: attributes),
            roles: roles, settings: settings, removingAttributes: removingAttributes)
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
    /// For ``TesseraClient/validate(code:)``; only for an account created unvalidated (or from
    /// ``TesseraClient/newValidationCode(for:)``).
    public var validationCode: String?
    /// When ``validationCode`` stops working.
    public var validationExpiresAt: Date?

    init(_ reply: UserResponse) throws(TesseraClientError) {
        user = try User(reply.user)
        validationCode = reply.validationCode
        validationExpiresAt = reply.validationExpiresAt.map(Date.init(milliseconds:))
    }
}
