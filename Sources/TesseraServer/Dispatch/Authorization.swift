@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

/// Who holds a token: the one question authorization asks the domain (``TesseraCore/Verification``
/// in the daemon, a fake in the dispatcher's tests).
protocol TokenHolders: Sendable {
    /// The user of a live session token, JWT or API key, and whether it was an API key;
    /// `token-invalid`, `token-expired` or `token-revoked` when it is not live.
    func holder(ofToken token: String) throws -> TokenHolder
}

struct TokenHolder: Sendable, Equatable {
    var userID: UInt64
    /// The key, when the token was an API key.
    var apiKey: APIKeyScope?

    var isAPIKey: Bool { apiKey != nil }
}

/// What an API key that names its user may read of them (``TesseraProtocol/Access/keyRead``):
/// the key itself, and the user with the key's permissions as roles.
struct APIKeyScope: Sendable, Equatable {
    var id: APIKeyID
    var permissions: [String]
}

extension Verification: TokenHolders {
    func holder(ofToken token: String) throws -> TokenHolder {
        let verified = try verify(token: token)
        let key = verified.apiKeyName == nil ? nil : APIKeyScope(id: APIKeyID(reinterpreting: verified.sessionID), permissions: verified.roles)
        return TokenHolder(userID: verified.userID, apiKey: key)
    }
}

/// The user an operation acts on, resolved from its request and checked against the peer and
/// the operation's ``TesseraProtocol/Access``. Only ``Authorization`` makes one, so a handler
/// that acts on a user cannot reach one that was not checked.
struct AuthorizedUser: Sendable {
    let lookup: UserLookup
    /// Who asked: an application is told only what its operation needs.
    let origin: Origin
    /// The API key that named the user, whose reads are narrowed to it; `nil` for any other
    /// credential or selector.
    let apiKey: APIKeyScope?

    fileprivate init(_ lookup: UserLookup, _ origin: Origin, apiKey: APIKeyScope? = nil) {
        self.lookup = lookup
        self.origin = origin
        self.apiKey = apiKey
    }
}

/// The owner whose objects (sessions, API keys) a request may act on, checked as
/// ``AuthorizedUser`` is.
struct AuthorizedOwner: Sendable {
    /// The user of the `session_token` the request carried; `nil` for an administrator that
    /// sent none: any owner.
    let userID: UInt64?

    fileprivate init(_ userID: UInt64?) { self.userID = userID }
}

/// On whose behalf an admitted request acts, as ``Authorization`` found it: what a handler may
/// know of its peer (a sign-up from a web process gets the configured roles, an
/// administrator's the roles it sends).
enum Origin: Sendable, Equatable {
    case administrator
    case application
}

/// Authorization, checked once for every operation before its handler runs (``OperationTable``):
///
/// 1. the peer's class against the operation's ``TesseraProtocol/Access`` (`forbidden`);
/// 2. for an application peer, the operation's ``TesseraProtocol/Operation/applicationRule``:
///    what it may not send;
/// 3. the user the request names: a `session_token` names the user of that live credential (an
///    API key only where the access is `self-read`, for any peer); any other selector only
///    from an administrator, or where the access is `application`;
/// 4. the owner of the object a request names (REVOKE_SESSION, REVOKE_API_KEY): the user of the
///    `session_token` it carries, which only an administrator may leave out.
///
/// The rules are `Protocol/PROTOCOL.md` §10.
struct Authorization: Sendable {
    let holders: any TokenHolders

    /// Steps 1 and 2.
    func admit<Request, Reply, Names>(_ operation: Operation<Request, Reply, Names>, _ request: Request, peer: PeerClass) throws {
        try admitPeer(operation, peer)
        try applyRule(operation, request, peer)
    }

    /// Step 1.
    private func admitPeer<Request, Reply, Names>(_ operation: Operation<Request, Reply, Names>, _ peer: PeerClass) throws {
        switch peer {
        case .admin: return
        case .application: guard operation.access.admitsApplications else { throw Self.adminOnly(operation) }
        case .refused: throw Self.adminOnly(operation)
        }
    }

    /// Step 2.
    private func applyRule<Request, Reply, Names>(_ operation: Operation<Request, Reply, Names>, _ request: Request, _ peer: PeerClass) throws {
        guard peer != .admin, let rule = operation.applicationRule else { return }
        if let refusal = rule(request) { throw refusal }
    }

    /// Steps 1, 3 and 2, in that order: who may act on whom, then what they may send.
    func user<Request, Reply>(_ operation: Operation<Request, Reply, Subject.User>, _ request: Request, peer: PeerClass) throws -> AuthorizedUser {
        try admitPeer(operation, peer)
        let lookup: UserLookup
        var apiKey: APIKeyScope?
        switch operation.user(in: request) {
        case .sessionToken(let token):
            let holder = try holder(token, operation.access)
            lookup = .id(holder.userID)
            apiKey = holder.apiKey
        case let other:
            // Any other selector names a user without proving anything about them.
            guard peer == .admin || operation.access == .application else { throw Self.notSelf }
            switch other {
            case .id(let id): lookup = .id(id)
            case .username(let name): lookup = .username(name)
            case .email(let email): lookup = .email(email)
            case .phone(let phone): lookup = .phone(phone)
            case .sessionToken: preconditionFailure("matched above")
            }
        }
        try applyRule(operation, request, peer)
        return AuthorizedUser(lookup, peer == .admin ? .administrator : .application, apiKey: apiKey)
    }

    /// Steps 1, 4 and 2.
    func owner<Request, Reply>(_ operation: Operation<Request, Reply, Subject.Owner>, _ request: Request, peer: PeerClass) throws -> AuthorizedOwner {
        try admitPeer(operation, peer)
        let owner: UInt64?
        if let token = operation.ownerToken(in: request) {
            owner = try holder(token, operation.access).userID
        } else {
            guard peer == .admin else { throw Self.notSelf }
            owner = nil
        }
        try applyRule(operation, request, peer)
        return AuthorizedOwner(owner)
    }

    private func holder(_ token: String, _ access: Access) throws -> TokenHolder {
        let holder = try holders.holder(ofToken: token)
        guard !holder.isAPIKey || access.acceptsAPIKeys else { throw Self.apiKeyReadsOnly }
        return holder
    }

    static func adminOnly<Request, Reply, Names>(_ operation: Operation<Request, Reply, Names>) -> RequestFailure {
        RequestFailure(status: .forbidden, message: "\(operation.name) is an administrator's operation")
    }

    static let apiKeyReadsOnly = RequestFailure(
        status: .forbidden,
        message:
            "an API key names its user only to read the user and itself (GET_USER, LIST_API_KEYS), not the account's sessions or second factor, nor to change"
    )

    static let notSelf = RequestFailure(
        status: .forbidden, message: "an application peer acts only on the user of a session token its request carries")
}
