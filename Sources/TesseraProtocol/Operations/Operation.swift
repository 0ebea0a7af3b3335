/// One operation of the protocol, declared once with every fact about it: its opcode and name,
/// its request and reply messages, how the server answers it, who may use it (``Access``), how
/// its request names the user it acts on (`Names`, an ``OperationSubject``), what an
/// application peer may not send, and whether it hashes a password.
///
/// The server's routing, its authorization, its hashing admission, the client's calls and the
/// spec's tables (§5 and §10, checked by the tests) are all read from these declarations.
public struct Operation<Request: SchemaMessage, Reply: SchemaMessage, Names: OperationSubject>: Sendable {
    public let opcode: Opcode
    /// The name in the spec: `CREATE_USER`.
    public let name: String
    /// How the server answers it.
    public let answering: Answering
    /// Who may use it.
    public let access: Access
    /// The errors it answers beyond those every operation of its kind may answer
    /// (``OperationFacts/sharedErrors``): the error list of its section in the spec.
    public let errors: [Status]
    /// Whether it runs argon2id: it starts only while the hashing pool has room.
    public let hashesPassword: Bool
    /// What an application peer may not send: the refusal, or `nil` when the request may go on.
    /// Checked with the access rule, before the handler runs; administrators are not asked.
    public let applicationRule: (@Sendable (Request) -> Refusal?)?
    /// The user a request names (``Subject/User``), or the `session_token` of the owner of the
    /// object it names (``Subject/Owner``).
    private let selector: (@Sendable (Request) -> UserSelector)?
    private let ownerToken: (@Sendable (Request) -> String?)?

    private init(
        _ opcode: Opcode, _ name: String, _ answering: Answering, _ access: Access, errors: [Status], hashesPassword: Bool,
        applicationRule: (@Sendable (Request) -> Refusal?)?, selector: (@Sendable (Request) -> UserSelector)?,
        ownerToken: (@Sendable (Request) -> String?)?
    ) {
        self.opcode = opcode
        self.name = name
        self.answering = answering
        self.access = access
        self.errors = errors
        self.hashesPassword = hashesPassword
        self.applicationRule = applicationRule
        self.selector = selector
        self.ownerToken = ownerToken
    }

    /// The facts of this operation that do not depend on its types.
    public var facts: OperationFacts {
        OperationFacts(
            opcode: opcode, name: name, answering: answering, access: access, subject: Names.kind, errors: errors,
            hashesPassword: hashesPassword,
            request: Request.schema.wireName, reply: Reply.schema.wireName)
    }
}

extension Operation where Names == Subject.Nobody {
    init(
        _ opcode: Opcode, _ name: String, _ answering: Answering, _ access: Access, errors: [Status], hashesPassword: Bool = false,
        fromApplication rule: (@Sendable (Request) -> Refusal?)? = nil
    ) {
        self.init(
            opcode, name, answering, access, errors: errors, hashesPassword: hashesPassword, applicationRule: rule, selector: nil,
            ownerToken: nil)
    }
}

extension Operation where Names == Subject.User {
    init(
        _ opcode: Opcode, _ name: String, _ answering: Answering, _ access: Access, errors: [Status], hashesPassword: Bool = false,
        user: @escaping @Sendable (Request) -> UserSelector, fromApplication rule: (@Sendable (Request) -> Refusal?)? = nil
    ) {
        self.init(
            opcode, name, answering, access, errors: errors, hashesPassword: hashesPassword, applicationRule: rule, selector: user,
            ownerToken: nil)
    }

    /// The user `request` names.
    public func user(in request: Request) -> UserSelector { selector!(request) }
}

extension Operation where Names == Subject.Owner {
    init(
        _ opcode: Opcode, _ name: String, _ answering: Answering, _ access: Access, errors: [Status],
        ownerToken: @escaping @Sendable (Request) -> String?
    ) {
        self.init(
            opcode, name, answering, access, errors: errors, hashesPassword: false, applicationRule: nil, selector: nil,
            ownerToken: ownerToken)
    }

    /// The `session_token` of the owner that `request` carries, if any.
    public func ownerToken(in request: Request) -> String? { ownerToken!(request) }
}

/// An operation's facts without its types: a row of the registry (``Operations/all``).
public struct OperationFacts: Sendable, Equatable {
    public let opcode: Opcode
    public let name: String
    public let answering: Answering
    public let access: Access
    public let subject: SubjectKind
    /// The operation's own errors (its section's list in the spec).
    public let errors: [Status]
    public let hashesPassword: Bool
    /// The request's and the reply's message names in the spec.
    public let request: String
    public let reply: String

    /// What every operation of this kind may answer besides its own ``errors`` (§8):
    /// `invalid-argument` (a malformed body), `internal` and `forbidden` (§10) for all; `busy`
    /// for a slow one (the in-flight limit, the hashing queue); `token-invalid`, `token-expired`
    /// and `token-revoked` for one whose request names a user or an owner by a token.
    public var sharedErrors: [Status] {
        var shared: [Status] = [.invalidArgument, .internal, .forbidden]
        if answering == .slow { shared.append(.busy) }
        if subject != .nobody { shared += [.tokenInvalid, .tokenExpired, .tokenRevoked] }
        return shared
    }

    /// Every status the operation may answer.
    public var possibleErrors: Set<Status> { Set(errors + sharedErrors) }
}

/// Every operation of protocol version 1, each declared once.
public enum Operations {
    public static let hello = Operation<HelloRequest, HelloResponse, Subject.Nobody>(
        .hello, "HELLO", .inline, .application, errors: [.unsupportedVersion])
    public static let ping = Operation<PingMessage, PingMessage, Subject.Nobody>(.ping, "PING", .inline, .application, errors: [])

    // Users
    public static let createUser = Operation<CreateUserRequest, UserResponse, Subject.Nobody>(
        .createUser, "CREATE_USER", .slow, .application, errors: [.conflict, .alreadyRegistered, .storageFull], hashesPassword: true,
        fromApplication: { request in
            let profile = request.profile
            return profile.roles.isEmpty && profile.accountType == nil && profile.rootRole == nil && profile.externalID == nil
                ? nil : Refusal(.forbidden, "an application peer's sign-up may not set roles, account_type, root_role or external_id")
        })
    public static let getUser = Operation<UserSelector, UserResponse, Subject.User>(
        .getUser, "GET_USER", .inline, .keyRead, errors: [.notFound], user: { $0 })
    public static let setUserState = Operation<SetUserStateRequest, UserResponse, Subject.User>(
        .setUserState, "SET_USER_STATE", .slow, .admin, errors: [.notFound, .storageFull], user: \.user)
    public static let unlockUser = Operation<UserSelector, EmptyMessage, Subject.User>(
        .unlockUser, "UNLOCK_USER", .slow, .admin, errors: [.notFound, .storageFull], user: { $0 })
    public static let updateUser = Operation<UpdateUserRequest, UserResponse, Subject.User>(
        .updateUser, "UPDATE_USER", .slow, .selfWrite, errors: [.notFound, .conflict, .storageFull], user: \.user,
        fromApplication: { request in
            let changes = request.changes
            return request.roles == nil && changes.accountType == nil && changes.rootRole == nil && changes.externalID == nil
                ? nil
                : Refusal(
                    .forbidden, "an application peer may change only the email, display name, phone, image URL and settings of its own user")
        })
    public static let changePassword = Operation<ChangePasswordRequest, EmptyMessage, Subject.Nobody>(
        .changePassword, "CHANGE_PASSWORD", .slow, .application,
        errors: [.tokenInvalid, .tokenExpired, .tokenRevoked, .badCredentials, .locked, .conflict, .storageFull], hashesPassword: true)
    public static let setPassword = Operation<SetPasswordRequest, SetPasswordResponse, Subject.User>(
        .setPassword, "SET_PASSWORD", .slow, .admin, errors: [.notFound, .storageFull], hashesPassword: true, user: \.user)
    public static let deleteUser = Operation<UserSelector, EmptyMessage, Subject.User>(
        .deleteUser, "DELETE_USER", .slow, .admin, errors: [.notFound, .storageFull], user: { $0 })
    public static let listUsers = Operation<ListUsersRequest, UserListResponse, Subject.Nobody>(
        .listUsers, "LIST_USERS", .slow, .admin, errors: [])
    public static let validate = Operation<ValidateRequest, UserResponse, Subject.Nobody>(
        .validate, "VALIDATE", .slow, .application, errors: [.tokenInvalid, .tokenExpired, .storageFull])
    /// Any selector, from any peer: an account waiting for validation cannot log in, so it has
    /// no session token.
    public static let newValidationCode = Operation<UserSelector, UserResponse, Subject.User>(
        .newValidationCode, "NEW_VALIDATION_CODE", .slow, .application, errors: [.notFound, .storageFull], user: { $0 })
    public static let importUsers = Operation<ImportUsersRequest, ImportUsersResponse, Subject.Nobody>(
        .importUsers, "IMPORT_USERS", .slow, .admin, errors: [.storageFull])
    public static let exportUsers = Operation<ExportUsersRequest, ExportUsersResponse, Subject.Nobody>(
        .exportUsers, "EXPORT_USERS", .slow, .admin, errors: [])

    // Sessions
    public static let login = Operation<LoginRequest, LoginResponse, Subject.Nobody>(
        .login, "LOGIN", .slow, .application,
        errors: [.badCredentials, .accountNotValidated, .inactiveAccount, .locked, .twoFactorRequired, .twoFactorInvalid, .storageFull],
        hashesPassword: true)
    public static let verify = Operation<VerifyRequest, VerifyResponse, Subject.Nobody>(
        .verify, "VERIFY", .verifyBatch, .application, errors: [.tokenInvalid, .tokenExpired, .tokenRevoked])
    public static let logout = Operation<TokenRequest, EmptyMessage, Subject.Nobody>(
        .logout, "LOGOUT", .slow, .application, errors: [.tokenInvalid, .storageFull])
    public static let refresh = Operation<RefreshRequest, LoginResponse, Subject.Nobody>(
        .refresh, "REFRESH", .slow, .application, errors: [.tokenInvalid, .tokenExpired, .tokenRevoked, .refreshReused, .storageFull])
    public static let listSessions = Operation<ListSessionsRequest, SessionListResponse, Subject.User>(
        .listSessions, "LIST_SESSIONS", .slow, .selfRead, errors: [.notFound], user: \.user)
    public static let revokeSession = Operation<SessionIDRequest, EmptyMessage, Subject.Owner>(
        .revokeSession, "REVOKE_SESSION", .slow, .selfWrite, errors: [.notFound, .storageFull], ownerToken: \.sessionToken)
    public static let revokeAllSessions = Operation<RevokeAllSessionsRequest, RevokeAllSessionsResponse, Subject.User>(
        .revokeAllSessions, "REVOKE_ALL_SESSIONS", .slow, .admin, errors: [.notFound, .storageFull], user: \.user)

    // Keys
    public static let listKeys = Operation<EmptyMessage, KeyListResponse, Subject.Nobody>(.listKeys, "LIST_KEYS", .slow, .admin, errors: [])
    public static let rotateKey = Operation<RotateKeyRequest, KeyResponse, Subject.Nobody>(
        .rotateKey, "ROTATE_KEY", .slow, .admin, errors: [.storageFull])
    public static let retireKey = Operation<RetireKeyRequest, RetireKeyResponse, Subject.Nobody>(
        .retireKey, "RETIRE_KEY", .slow, .admin, errors: [.notFound, .storageFull])
    public static let rotateMasterKey = Operation<RotateMasterKeyRequest, RotateMasterKeyResponse, Subject.Nobody>(
        .rotateMasterKey, "ROTATE_MASTER_KEY", .slow, .admin, errors: [.storageFull])
    public static let jwks = Operation<EmptyMessage, JWKSResponse, Subject.Nobody>(.jwks, "JWKS", .inline, .application, errors: [])

    // Two-factor login: an administrator needs no proof (a reset, for a user who lost the
    // authenticator); an application proves the password or a code.
    public static let twoFactorStatus = Operation<UserSelector, TwoFactorStatusResponse, Subject.User>(
        .twoFactorStatus, "TWO_FACTOR_STATUS", .inline, .selfRead, errors: [.notFound], user: { $0 })
    /// From an application, with the user's re-authentication: a second factor is a credential.
    public static let enrolTwoFactor = Operation<EnrolTwoFactorRequest, EnrolTwoFactorResponse, Subject.User>(
        .enrolTwoFactor, "ENROL_TWO_FACTOR", .slow, .selfWrite,
        errors: [.notFound, .badCredentials, .locked, .twoFactorRequired, .twoFactorInvalid, .conflict, .storageFull],
        hashesPassword: true, user: \.user,
        fromApplication: { request in
            request.password != nil ? nil : Refusal(.invalidArgument, "enrolling a second factor needs the user's current password")
        })
    public static let confirmTwoFactor = Operation<ConfirmTwoFactorRequest, RecoveryCodesResponse, Subject.User>(
        .confirmTwoFactor, "CONFIRM_TWO_FACTOR", .slow, .selfWrite,
        errors: [.notFound, .badCredentials, .locked, .conflict, .twoFactorInvalid, .storageFull], hashesPassword: true, user: \.user,
        fromApplication: { request in
            request.password != nil ? nil : Refusal(.invalidArgument, "confirming a second factor needs the user's current password")
        })
    public static let disableTwoFactor = Operation<DisableTwoFactorRequest, EmptyMessage, Subject.User>(
        .disableTwoFactor, "DISABLE_TWO_FACTOR", .slow, .selfWrite, errors: [.notFound, .badCredentials, .locked, .twoFactorInvalid, .storageFull],
        hashesPassword: true, user: \.user,
        fromApplication: { request in
            request.password != nil
                ? nil : Refusal(.invalidArgument, "disabling two-factor login needs the password and a current code or a recovery code")
        })
    public static let regenerateRecoveryCodes = Operation<RegenerateRecoveryCodesRequest, RecoveryCodesResponse, Subject.User>(
        .regenerateRecoveryCodes, "REGENERATE_RECOVERY_CODES", .slow, .selfWrite, errors: [.notFound, .twoFactorInvalid, .locked, .storageFull],
        user: \.user,
        fromApplication: { request in
            request.code != nil ? nil : Refusal(.invalidArgument, "regenerating recovery codes needs a current code")
        })

    // API keys: an application makes, lists and revokes the keys of the user of a session
    // token; anyone it serves may present one.
    /// From an application, with the user's re-authentication: a key outlives the session.
    public static let createAPIKey = Operation<CreateAPIKeyRequest, CreateAPIKeyResponse, Subject.User>(
        .createAPIKey, "CREATE_API_KEY", .slow, .selfWrite,
        errors: [
            .notFound, .badCredentials, .locked, .twoFactorRequired, .twoFactorInvalid, .accountNotValidated, .inactiveAccount, .conflict,
            .storageFull,
        ],
        hashesPassword: true, user: \.user,
        fromApplication: { request in
            request.password != nil ? nil : Refusal(.invalidArgument, "creating an API key needs the user's current password")
        })
    public static let listAPIKeys = Operation<UserSelector, APIKeyListResponse, Subject.User>(
        .listAPIKeys, "LIST_API_KEYS", .slow, .keyRead, errors: [.notFound], user: { $0 })
    public static let revokeAPIKey = Operation<RevokeAPIKeyRequest, EmptyMessage, Subject.Owner>(
        .revokeAPIKey, "REVOKE_API_KEY", .slow, .selfWrite, errors: [.notFound, .storageFull], ownerToken: \.sessionToken)
    public static let revokeAllAPIKeys = Operation<UserSelector, CountResponse, Subject.User>(
        .revokeAllAPIKeys, "REVOKE_ALL_API_KEYS", .slow, .selfWrite, errors: [.notFound, .storageFull], user: { $0 })
    public static let verifyAPIKey = Operation<VerifyAPIKeyRequest, VerifyAPIKeyResponse, Subject.Nobody>(
        .verifyAPIKey, "VERIFY_API_KEY", .inline, .application, errors: [.tokenInvalid, .tokenExpired, .tokenRevoked])

    /// The registry: every declaration above, in opcode order. A test and the server's start
    /// check that it holds each ``Opcode`` exactly once.
    public static let all: [OperationFacts] = [
        hello.facts, ping.facts,
        createUser.facts, getUser.facts, setUserState.facts, unlockUser.facts, updateUser.facts,
        changePassword.facts, setPassword.facts, deleteUser.facts, listUsers.facts, validate.facts,
        newValidationCode.facts, importUsers.facts, exportUsers.facts,
        login.facts, verify.facts, logout.facts, refresh.facts,
        listSessions.facts, revokeSession.facts, revokeAllSessions.facts,
        listKeys.facts, rotateKey.facts, retireKey.facts, rotateMasterKey.facts, jwks.facts,
        twoFactorStatus.facts, enrolTwoFactor.facts, confirmTwoFactor.facts, disableTwoFactor.facts,
        regenerateRecoveryCodes.facts,
        createAPIKey.facts, listAPIKeys.facts, revokeAPIKey.facts, revokeAllAPIKeys.facts,
        verifyAPIKey.facts,
    ]

    /// The declaration of `opcode`.
    public static func facts(of opcode: Opcode) -> OperationFacts { byOpcode[Int(opcode.rawValue)]! }

    private static let byOpcode: [OperationFacts?] = {
        var table = [OperationFacts?](repeating: nil, count: 256)
        for operation in all {
            precondition(table[Int(operation.opcode.rawValue)] == nil, "\(operation.name) is declared twice")
            table[Int(operation.opcode.rawValue)] = operation
        }
        return table
    }()

    /// What a connection reads for every frame, without touching a string: how the operation is
    /// answered and whether application peers may use it.
    @usableFromInline
    struct Routing: Sendable {
        @usableFromInline let answering: Answering
        @usableFromInline let admitsApplications: Bool
    }

    @usableFromInline
    static let routing: [Routing] = byOpcode.map { description in
        Routing(answering: description?.answering ?? .inline, admitsApplications: description?.access.admitsApplications ?? false)
    }
}
