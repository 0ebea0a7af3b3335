/// The domain's errors, each with a stable code shared by the protocol, the client and the CLI.
@_spi(TesseraInternal) public enum AuthError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Unknown user or wrong password: deliberately indistinguishable.
    case badCredentials
    /// The password was right but the account has not been validated yet (a new code comes
    /// from ``Accounts/newValidationCode(for:)``, never from a login).
    case accountNotValidated
    /// The password was right but the account is disabled.
    case inactiveAccount
    /// The password was right; the account has a second factor and the login carried no code.
    case twoFactorRequired
    /// A TOTP code or recovery code was wrong, already used, or outside its time window. Counts
    /// as a failed login.
    case twoFactorInvalid
    /// Too many failed logins: retry after this many seconds.
    case locked(retryAfterSeconds: UInt32)
    /// The token is well formed but past its expiry.
    case tokenExpired
    /// The session was ended (its refresh family was revoked).
    case tokenRevoked
    /// A retired refresh token was presented after its grace window: the family is revoked.
    case refreshReused
    /// The token is malformed, unknown, or signed by an unknown key.
    case tokenInvalid
    /// The requested user (or other object) does not exist.
    case notFound(String)
    /// A unique value is already taken (the username), or the record changed meanwhile.
    case conflict(String)
    /// An email or phone another account holds; the message says which, for an administrator
    /// (a web process is told ``conflict(_:)`` without which, or ``alreadyRegistered`` at sign-up).
    case addressTaken(String)
    /// A web process's sign-up named an email or phone that another account holds: nothing was
    /// created, after the time a sign-up takes, and the web process tells the address's owner
    /// instead of the person signing up.
    case alreadyRegistered
    /// The input breaks a rule; the message says which.
    case invalidArgument(String)
    /// Too much work is queued; retry later.
    case busy
    /// The database reached its maximum size; reads still work.
    case storageFull
    /// An unexpected failure; details are in the daemon's log.
    case `internal`(String)

    @_spi(TesseraInternal) public var description: String {
        switch self {
        case .badCredentials: "the username or password is wrong"
        case .accountNotValidated: "the account has not been validated yet"
        case .inactiveAccount: "the account is disabled"
        case .twoFactorRequired: "a two-factor code is required"
        case .twoFactorInvalid: "the two-factor code is not valid"
        case .locked(let seconds): "too many failed logins; retry in \(seconds) s"
        case .tokenExpired: "the token has expired; log in again"
        case .tokenInvalid: "the token is not valid"
        case .tokenRevoked: "the session was revoked; log in again"
        case .refreshReused: "this refresh token was already used; every session it led to has been revoked"
        case .notFound(let what): "\(what) was not found"
        case .conflict(let why), .addressTaken(let why): why
        case .alreadyRegistered: "the email or phone is already registered; tell its owner, not the sign-up"
        case .invalidArgument(let why): why
        case .busy: "the server is busy; retry shortly"
        case .storageFull: "the database is full; writes are refused until space is freed or the maximum map size raised"
        case .internal(let why): "internal error: \(why)"
        }
    }
}
