import SodiumKit

/// The rules the domain enforces, with the defaults a serious deployment starts from.
@_spi(TesseraInternal) public struct AuthConfiguration: Sendable {
    /// argon2id parameters for new hashes. Default: libsodium INTERACTIVE (t=2, m=64 MiB).
    @_spi(TesseraInternal) public var passwordHasher: PasswordHasher = .interactive
    /// Shortest accepted password, in bytes (OWASP: at least 8).
    @_spi(TesseraInternal) public var minimumPasswordLength = 8
    /// Session lifetime when the login does not ask for less. Default: 24 hours.
    package var sessionLifetimeSeconds: UInt32 = 24 * 3600
    /// The login throttle: consecutive failures before delays start, and the delays.
    package var lockout = LockoutPolicy()
    /// The roles a sign-up from a web process gets (`--signup-roles`); such a sign-up may not
    /// choose its own. Default: none. An administrator's CREATE_USER sets what it sends.
    package var signupRoles: [String] = []

    /// Why `roles` cannot be the sign-up roles (the rules of every user's roles), or `nil`.
    package static func signupRolesProblem(_ roles: [String]) -> String? {
        do {
            try Validation.roles(roles)
            return nil
        } catch {
            return "\(error)"
        }
    }
    /// Most sessions one user may hold; a login beyond it ends the oldest. 0: no cap.
    package var maximumSessionsPerUser = 0
    /// The longest an API key may live: a key asked for without a lifetime gets this one, a
    /// longer one is refused. 0 (the default): no maximum, and a key may never expire.
    package var apiKeyMaximumLifetimeSeconds: UInt32 = 0
    /// Refresh token lifetime. Default: 30 days.
    package var refreshLifetimeSeconds: UInt32 = 30 * 24 * 3600
    /// How long a retired refresh token still returns the pair it was exchanged for (a retry
    /// after a lost reply, two tabs refreshing at once). Default: 10 seconds.
    package var refreshGraceSeconds: UInt32 = 10
    /// How long a validation code works after it was issued. Default: 24 hours.
    package var validationCodeLifetimeSeconds: UInt32 = 24 * 3600
    /// Rotate the token-digest key when the active one has been active this long (the sweeper
    /// does it). 0: only by hand (`tessera keys rotate`). Default: 0.
    package var keyRotationSeconds: UInt32 = 0
    /// Rotate the JWT signing key when it has been active this long. 0: only by hand.
    /// Default: 30 days.
    package var jwtKeyRotationSeconds: UInt32 = 30 * 24 * 3600
    /// A JWT's lifetime (never beyond its session's expiry). Default: 1 hour.
    package var jwtLifetimeSeconds: UInt32 = 3600
    /// A JWT's `iss` claim.
    package var jwtIssuer = "tessera"
    /// A JWT's `aud` claim; none when `nil`.
    package var jwtAudience: String?
    /// The issuer an authenticator app shows beside a TOTP account (the `otpauth://` URI);
    /// an enrolment may name another. Default: "Tessera".
    package var totpIssuer = "Tessera"
    /// Idle timeout: a session not verified for this long ends. 0 disables. Default: 30 minutes.
    package var idleTimeoutSeconds: UInt32 = 30 * 60
    /// A verify writes the session's last-seen time only when the stored one is older than this.
    package var lastSeenIntervalSeconds: UInt32 = 60
    /// Hashing threads (at most one argon2id each). Default: one per core.
    package var hashingThreads = System.coreCount
    /// Hash requests that may wait for a thread before new ones get `busy`.
    package var hashingQueueLimit = 64
    /// Failed logins per client address before hashing (``SourceThrottle``).
    package var sourceThrottle = SourceThrottlePolicy()

    @_spi(TesseraInternal) public init() {}
}

/// Facts about the machine.
package enum System {
    /// Online processor cores.
    package static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
