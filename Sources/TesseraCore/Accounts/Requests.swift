import SodiumKit
import TesseraModel

/// Input of ``AuthService/createUser(_:)``.
public struct NewUser: Sendable {
    public var username: String
    public var password: SecretBytes
    public var email: String?
    public var displayName: String?
    public var roles: [String]
    public var profile = ProfileChanges()
    /// Create the account unvalidated: logins answer `account-not-validated` until VALIDATE.
    public var unvalidated = false

    public init(username: String, password: SecretBytes, email: String? = nil, displayName: String? = nil, roles: [String] = []) {
        self.username = username
        self.password = password
        self.email = email
        self.displayName = displayName
        self.roles = roles
    }
}

/// Changes to a user's profile: `nil` leaves a field alone; an empty string clears it.
public struct ProfileChanges: Sendable {
    public var email: String?
    public var displayName: String?
    public var phone: String?
    public var imageURL: String?
    public var accountType: AccountType?
    public var rootRole: String?
    public var externalID: String?
    /// Replaces the roles (and every live session's copy of them).
    public var roles: [String]?
    /// Replaces the settings map.
    public var settings: [String: String]?

    public init() {}
}

/// How ``AuthService/user(_:)`` finds a user.
public enum UserLookup: Sendable {
    case id(UInt64)
    case username(String)
    case email(String)
    case phone(String)
}

/// Input of ``AuthService/login(_:)``.
public struct LoginAttempt: Sendable {
    /// A username, or an email when it contains `@`.
    public var identifier: String
    public var password: SecretBytes
    public var clientIP: String?
    public var userAgent: String?
    /// A shorter lifetime than the configured one; longer requests are capped.
    public var lifetimeSeconds: UInt32?
    /// A shorter idle timeout than the configured one; longer requests are capped.
    public var idleTimeoutSeconds: UInt32?
    /// Also issue a JWT access token for the session.
    public var withJWT = false
    /// The second factor, for a user who enrolled one.
    public var secondFactor: TwoFactorProof?

    public init(
        identifier: String, password: SecretBytes, clientIP: String? = nil, userAgent: String? = nil, lifetimeSeconds: UInt32? = nil,
        idleTimeoutSeconds: UInt32? = nil, withJWT: Bool = false, secondFactor: TwoFactorProof? = nil
    ) {
        self.withJWT = withJWT
        self.secondFactor = secondFactor
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.identifier = identifier
        self.password = password
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.lifetimeSeconds = lifetimeSeconds
    }
}

/// Output of ``AuthService/login(_:)`` and ``AuthService/refresh(_:clientIP:userAgent:)``: an
/// access token and a refresh token.
public struct LoginResult: Sendable, Equatable {
    /// The token to hand to the end user. Never logged, never stored.
    public var token: String
    public var sessionID: SessionID
    public var expiresAt: Timestamp
    public var user: UserProfile
    /// The refresh token: exchanged for a new pair by ``AuthService/refresh(_:)``. Never logged, never stored.
    public var refreshToken: String
    public var refreshExpiresAt: Timestamp
    /// A JWT access token for the session, when asked for.
    public var jwt: String?
    /// The JWT's expiry (whole seconds, in milliseconds).
    public var jwtExpiresAt: Timestamp?
    /// How many recovery codes are left when the login used one (the web process should warn
    /// the user); `nil` when it did not.
    public var recoveryCodesLeft: Int?
}
