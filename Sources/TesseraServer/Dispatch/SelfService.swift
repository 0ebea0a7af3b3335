import TesseraCore
import TesseraProtocol

/// What an application peer (a web process) may do to users: act only on the user of a
/// session token its request carries, and change only what that user may change about
/// themselves. Administrators may name any user, by a session token too.
///
/// GET_USER, UPDATE_USER and LIST_SESSIONS name the user with USER_SELECTOR's `session_token`;
/// REVOKE_SESSION carries a `session_token` of the session's user. The table is in
/// `Protocol/PROTOCOL.md` §10.
struct SelfService {
    let verification: Verification

    /// The user `selector` names for a peer of class `peer`. A session token names the user of
    /// its live session (`token-invalid`, `token-expired` otherwise); an application peer may
    /// name a user no other way (`forbidden`).
    ///
    /// The token may be an API key only when the operation reads (`reading`): an API key may
    /// say who its user is, list their keys and sessions, not change them (`forbidden`).
    func lookup(_ selector: UserSelector, peer: PeerClass, reading: Bool = false) throws -> UserLookup {
        if case .sessionToken = selector {} else if peer != .admin { throw Self.notSelf }
        return try lookup(selector, reading: reading)
    }

    /// The user `selector` names, however it names it: for operations an application peer may
    /// not use, or may use for any user (NEW_VALIDATION_CODE: the account has no session yet).
    func lookup(_ selector: UserSelector, reading: Bool = false) throws -> UserLookup {
        switch selector {
        case .sessionToken(let token): return .id(try user(ofToken: token, reading: reading))
        case .id(let id): return .id(id)
        case .username(let name): return .username(name)
        case .email(let email): return .email(email)
        case .phone(let phone): return .phone(phone)
        }
    }

    /// The user whose object (a session, an API key) a request carrying `token` may act on: the
    /// token's user, or any (`nil`) for an administrator without a token.
    func owner(sessionToken token: String?, peer: PeerClass) throws -> UInt64? {
        guard let token else {
            guard peer == .admin else { throw Self.notSelf }
            return nil
        }
        return try user(ofToken: token, reading: false)
    }

    /// The user of a live session token, or of an API key when the operation only reads.
    private func user(ofToken token: String, reading: Bool) throws -> UInt64 {
        let verified = try verification.verify(token: token)
        guard reading || verified.apiKeyName == nil else { throw Self.apiKeyReadsOnly }
        return verified.userID
    }

    /// Throws `forbidden` when an application peer's UPDATE_USER changes what only an
    /// administrator may: roles, the account type, the root role, the external id.
    func checkChanges(_ request: UpdateUserRequest, peer: PeerClass) throws {
        guard peer != .admin else { return }
        let changes = request.changes
        guard request.roles == nil, changes.accountType == nil, changes.rootRole == nil, changes.externalID == nil else {
            throw RequestFailure(
                status: .forbidden,
                message: "an application peer may change only the email, display name, phone, image URL and settings of its own user")
        }
    }

    static let apiKeyReadsOnly = RequestFailure(
        status: .forbidden, message: "an API key names its user to read (GET_USER, LIST_SESSIONS, LIST_API_KEYS, TWO_FACTOR_STATUS), not to change")

    static let notSelf = RequestFailure(
        status: .forbidden, message: "an application peer acts only on the user of a session token its request carries")
}
