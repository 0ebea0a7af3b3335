import SodiumKit
import TesseraModel

/// Input of ``AuthService/createUser(_:)``.
@_spi(TesseraInternal) public struct NewUser: Sendable {
    package var username: String
    package var password: SecretBytes
    package var email: String?
    package var displayName: String?
    package var roles: [String]
    package var profile = ProfileChanges()
    /// Create the account unvalidated: logins answer `account-not-validated` until VALIDATE.
    package var unvalidated = false
    /// A web process's sign-up: a taken email or phone answers ``AuthError/alreadyRegistered``
    /// only after the password is hashed, as a fresh sign-up's, so that neither the answer's
    /// time nor its wording tells the person signing up (an administrator is told at once
    /// which value clashed).
    package var hidesAddresses = false

    @_spi(TesseraInternal) public init(
        username: String, password: SecretBytes, email: String? = nil, displayName: String? = nil, roles: [String] = []
    ) {
        self.username = username
        self.password = password
        self.email = email
        self.displayName = displayName
        self.roles = roles
    }
}

/// Changes to a user's profile: `nil` leaves a field alone; an empty string clears it.
package struct ProfileChanges: Sendable {
    package var email: String?
    package var displayName: String?
    package var phone: String?
    package var imageURL: String?
    package var accountType: AccountType?
    package var rootRole: String?
    package var externalID: String?
    /// Replaces the roles (and every live session's copy of them).
    package var roles: [String]?
    /// Replaces the settings map.
    package var settings: [String: String]?
    /// Attributes to set, each added or replaced by name; the others stay.
    package var attributes: [String: AttributeValue] = [:]
    /// Attributes to remove, by name (a name the user does not hold is no error).
    package var removedAttributes: [String] = []

    package init() {}
}

/// How ``AuthService/user(_:)`` finds a user.
@_spi(TesseraInternal) public enum UserLookup: Sendable {
    case id(UInt64)
    case username(String)
    case email(String)
    case phone(String)
}

/// Input of ``AuthService/login(_:)``.
package struct LoginAttempt: Sendable {
    /// A username, or an email when it contains `@`.
    package var identifier: String
    package var password: SecretBytes
    package var clientIP: String?
    package var userAgent: String?
    /// A shorter lifetime than the configured one; longer requests are capped.
    package var lifetimeSeconds: UInt32?
    /// A shorter idle timeout than the configured one; longer requests are capped.
    package var idleTimeoutSeconds: UInt32?
    /// Also issue a JWT access token for the session.
    package var withJWT = false
    /// The second factor, for a user who enrolled one.
    package var secondFactor: TwoFactorProof?
    /// How `password` is given (``PasswordForm``).
    package var passwordForm: PasswordForm = .plain

    package init(
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
package struct LoginResult: Sendable, Equatable {
    /// The token to hand to the end user. Never logged, never stored.
    package var token: String
    package var sessionID: SessionID
    package var expiresAt: Timestamp
    package var user: UserProfile
    /// The refresh token: exchanged for a new pair by ``AuthService/refresh(_:)``. Never logged, never stored.
    package var refreshToken: String
    package var refreshExpiresAt: Timestamp
    /// A JWT access token for the session, when asked for.
    package var jwt: String?
    /// The JWT's expiry (whole seconds, in milliseconds).
    package var jwtExpiresAt: Timestamp?
    /// How many recovery codes are left when the login used one (the web process should warn
    /// the user); `nil` when it did not.
    package var recoveryCodesLeft: Int?
}
