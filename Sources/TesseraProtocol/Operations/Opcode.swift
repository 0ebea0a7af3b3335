/// The operations of protocol version 1. See `Protocol/PROTOCOL.md` for each one's fields.
public enum Opcode: UInt8, Sendable, CaseIterable {
    /// Version and limits exchange.
    case hello = 0x01
    /// Liveness check; echoes its payload.
    case ping = 0x02
    /// Create a user with a password.
    case createUser = 0x10
    /// Read a user by id, username or email.
    case getUser = 0x11
    /// Set an account's state (active, unvalidated, disabled).
    case setUserState = 0x12
    /// Clear an account's failed-login count and lock.
    case unlockUser = 0x13
    /// Change a user's profile fields.
    case updateUser = 0x14
    /// Change one's own password (token + current password); other sessions end.
    case changePassword = 0x15
    /// Set a user's password (administrator); every session ends.
    case setPassword = 0x16
    /// Delete a user with every session.
    case deleteUser = 0x17
    /// List users in id order, paged.
    case listUsers = 0x18
    /// Activate an account with its validation code.
    case validate = 0x19
    /// Issue a fresh validation code for an account waiting for validation.
    case newValidationCode = 0x1A
    /// Import a batch of users from another system, with their password hashes as they are.
    case importUsers = 0x1B
    /// Export users in id order with their password hashes, as IMPORT_USERS takes them.
    case exportUsers = 0x1C
    /// Check a password and open a session.
    case login = 0x20
    /// Check a session token: the per-request hot path.
    case verify = 0x21
    /// End the session of a token.
    case logout = 0x22
    /// Exchange a refresh token for a new access token and refresh token.
    case refresh = 0x23
    /// List a user's sessions.
    case listSessions = 0x30
    /// End one session by its id.
    case revokeSession = 0x31
    /// End every session of a user, optionally but one.
    case revokeAllSessions = 0x32
    /// List the token keys (never their material).
    case listKeys = 0x40
    /// Make a new token key active; the previous one becomes verify-only.
    case rotateKey = 0x41
    /// Retire a token key now: every token made under it is refused.
    case retireKey = 0x42
    /// Seal the token keys under a new master key, written to a new file.
    case rotateMasterKey = 0x43
    /// The JWKS of the JWT signing keys.
    case jwks = 0x44
    /// A user's second factor (never its secret).
    case twoFactorStatus = 0x50
    /// Issue a TOTP secret, pending until a code confirms it.
    case enrolTwoFactor = 0x51
    /// Confirm a pending TOTP secret with one code; issues the recovery codes.
    case confirmTwoFactor = 0x52
    /// Remove a user's second factor.
    case disableTwoFactor = 0x53
    /// Issue new recovery codes, voiding the old ones.
    case regenerateRecoveryCodes = 0x54
    /// Make an API key for a user.
    case createAPIKey = 0x60
    /// List a user's API keys (never their secrets).
    case listAPIKeys = 0x61
    /// Revoke one API key.
    case revokeAPIKey = 0x62
    /// Revoke every API key of a user.
    case revokeAllAPIKeys = 0x63
    /// Check an API key (VERIFY accepts them too).
    case verifyAPIKey = 0x64
}

/// The protocol version this library speaks.
public enum ProtocolVersion {
    public static let current: UInt16 = 1
}

/// How a server answers an operation; part of each operation's declaration (``Operation``), so
/// the server's routing and the spec's table (`Protocol/PROTOCOL.md` §5) come from one place.
public enum Answering: Sendable, Equatable {
    /// Answered at once from a read snapshot (cheap; not counted against `max_in_flight`).
    case inline
    /// Answered at the end of the read burst with every other VERIFY of the burst, in one
    /// snapshot (not counted against `max_in_flight`).
    case verifyBatch
    /// Runs off the socket thread: argon2id, a durable commit or a listing. Counted against
    /// `max_in_flight`.
    case slow
}

extension Opcode {
    /// How the server answers this operation (from its declaration in ``Operations``).
    @inline(__always)
    public var answering: Answering { Operations.routing[Int(rawValue)].answering }

    /// Whether an application peer may use this operation at all (its ``Access`` is not
    /// ``Access/admin``); which user it may act on is checked when the request is answered.
    @inline(__always)
    public var admitsApplications: Bool { Operations.routing[Int(rawValue)].admitsApplications }
}
