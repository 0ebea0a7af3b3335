/// Who may use an operation, and how a request from an application peer may name the user it
/// acts on: the rows of `Protocol/PROTOCOL.md` §10, one per operation, from its declaration.
///
/// The server checks it once, before any handler runs: the peer's class against the rule, then
/// the user the request names (``Subject``) against the peer and the credential kind. A handler
/// receives the user already resolved and never sees the peer.
public enum Access: String, Sendable, Equatable, CaseIterable {
    /// Administrators only.
    case admin
    /// Administrators and applications alike. The request names no user, or proves its own
    /// credential (a password, a token, a code); an operation that names a user by a selector
    /// takes any selector from either (NEW_VALIDATION_CODE: the account has no session yet).
    case application
    /// Self-service that reads what the account holder alone should (its sessions, its second
    /// factor): an application names the user only by a `session_token` (a session token or a
    /// JWT) its request carries; an administrator by any selector. An API key names no user
    /// (`forbidden`), from any peer.
    case selfRead = "self-read"
    /// A read an API key may make too: as ``selfRead``, and an API key names its user, reading
    /// only what concerns the key (the user with the key's permissions as roles, the key among
    /// the user's keys).
    case keyRead = "key-read"
    /// Self-service that changes: as ``selfRead``: an API key may say who its user is, not
    /// change it.
    case selfWrite = "self-write"

    /// Whether a peer that is not an administrator may use the operation at all.
    @inline(__always)
    public var admitsApplications: Bool { self != .admin }

    /// Whether an API key may name the user (or prove the owner) for the operation.
    public var acceptsAPIKeys: Bool { self == .keyRead }
}

/// How a request names what its operation acts on: the third type of an ``Operation``.
public protocol OperationSubject {
    static var kind: SubjectKind { get }
}

/// The three ways a request names its subject (``OperationSubject``).
public enum SubjectKind: String, Sendable, Equatable {
    /// No user: the request proves its own credential (LOGIN, REFRESH, LOGOUT, VALIDATE...) or
    /// acts on no user at all (HELLO, LIST_USERS, the key operations).
    case nobody
    /// A USER_SELECTOR names the user.
    case user
    /// The request names an object by its id (a session, an API key) and may carry a
    /// `session_token` of the object's owner: an application must send it, and acts only on
    /// that user's objects.
    case owner
}

/// The subject types of ``Operation``.
public enum Subject {
    /// See ``SubjectKind/nobody``.
    public enum Nobody: OperationSubject { public static var kind: SubjectKind { .nobody } }
    /// See ``SubjectKind/user``.
    public enum User: OperationSubject { public static var kind: SubjectKind { .user } }
    /// See ``SubjectKind/owner``.
    public enum Owner: OperationSubject { public static var kind: SubjectKind { .owner } }
}

/// A request the server refuses before it is answered: what an application peer may not send
/// (``Operation/applicationRule``).
public struct Refusal: Error, Sendable, Equatable {
    public var status: Status
    public var message: String

    public init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }
}
