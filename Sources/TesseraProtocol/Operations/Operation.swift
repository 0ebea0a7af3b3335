/// One operation of the protocol: its opcode, its request and reply messages, and (through
/// the opcode) how the server answers it. The server's routing, the client's calls and the
/// spec's table (§4, checked by the tests) come from these declarations.
public struct Operation<Request: SchemaMessage, Reply: SchemaMessage>: Sendable {
    public let opcode: Opcode

    init(_ opcode: Opcode) {
        self.opcode = opcode
    }

    /// How the server answers this operation.
    public var answering: Answering { opcode.answering }
}

/// Every operation of protocol version 1, each written once.
public enum Operations {
    public static let hello = Operation<HelloRequest, HelloResponse>(.hello)
    public static let ping = Operation<PingMessage, PingMessage>(.ping)
    public static let createUser = Operation<CreateUserRequest, UserResponse>(.createUser)
    public static let getUser = Operation<UserSelector, UserResponse>(.getUser)
    public static let setUserState = Operation<SetUserStateRequest, UserResponse>(.setUserState)
    public static let unlockUser = Operation<UserSelector, EmptyMessage>(.unlockUser)
    public static let updateUser = Operation<UpdateUserRequest, UserResponse>(.updateUser)
    public static let changePassword = Operation<ChangePasswordRequest, EmptyMessage>(.changePassword)
    public static let setPassword = Operation<SetPasswordRequest, EmptyMessage>(.setPassword)
    public static let deleteUser = Operation<UserSelector, EmptyMessage>(.deleteUser)
    public static let listUsers = Operation<ListUsersRequest, UserListResponse>(.listUsers)
    public static let validate = Operation<ValidateRequest, UserResponse>(.validate)
    public static let newValidationCode = Operation<UserSelector, UserResponse>(.newValidationCode)
    public static let login = Operation<LoginRequest, LoginResponse>(.login)
    public static let verify = Operation<VerifyRequest, VerifyResponse>(.verify)
    public static let logout = Operation<TokenRequest, EmptyMessage>(.logout)
    public static let refresh = Operation<RefreshRequest, LoginResponse>(.refresh)
    public static let listSessions = Operation<ListSessionsRequest, SessionListResponse>(.listSessions)
    public static let revokeSession = Operation<SessionIDRequest, EmptyMessage>(.revokeSession)
    public static let revokeAllSessions = Operation<RevokeAllSessionsRequest, CountResponse>(.revokeAllSessions)
    public static let listKeys = Operation<EmptyMessage, KeyListResponse>(.listKeys)
    public static let rotateKey = Operation<RotateKeyRequest, KeyResponse>(.rotateKey)
    public static let retireKey = Operation<RetireKeyRequest, RetireKeyResponse>(.retireKey)
    public static let rotateMasterKey = Operation<RotateMasterKeyRequest, RotateMasterKeyResponse>(.rotateMasterKey)
    public static let jwks = Operation<EmptyMessage, JWKSResponse>(.jwks)
    public static let twoFactorStatus = Operation<UserSelector, TwoFactorStatusResponse>(.twoFactorStatus)
    public static let enrolTwoFactor = Operation<EnrolTwoFactorRequest, EnrolTwoFactorResponse>(.enrolTwoFactor)
    public static let confirmTwoFactor = Operation<ConfirmTwoFactorRequest, RecoveryCodesResponse>(.confirmTwoFactor)
    public static let disableTwoFactor = Operation<DisableTwoFactorRequest, EmptyMessage>(.disableTwoFactor)
    public static let regenerateRecoveryCodes = Operation<RegenerateRecoveryCodesRequest, RecoveryCodesResponse>(.regenerateRecoveryCodes)
    public static let createAPIKey = Operation<CreateAPIKeyRequest, CreateAPIKeyResponse>(.createAPIKey)
    public static let listAPIKeys = Operation<UserSelector, APIKeyListResponse>(.listAPIKeys)
    public static let revokeAPIKey = Operation<RevokeAPIKeyRequest, EmptyMessage>(.revokeAPIKey)
    public static let revokeAllAPIKeys = Operation<UserSelector, CountResponse>(.revokeAllAPIKeys)
    public static let verifyAPIKey = Operation<VerifyAPIKeyRequest, VerifyAPIKeyResponse>(.verifyAPIKey)

    /// Each opcode's request and reply message names, for the spec's table.
    public static let messageNames: [Opcode: (request: String, reply: String)] = {
        func names<Request, Reply>(_ operation: Operation<Request, Reply>) -> (Opcode, (String, String)) {
            (operation.opcode, (Request.schema.wireName, Reply.schema.wireName))
        }
        return Dictionary(uniqueKeysWithValues: [
            names(hello), names(ping), names(createUser), names(getUser), names(setUserState), names(unlockUser), names(updateUser),
            names(changePassword), names(setPassword), names(deleteUser), names(listUsers), names(validate),
            names(newValidationCode), names(login),
            names(verify), names(logout), names(refresh), names(listSessions), names(revokeSession), names(revokeAllSessions),
            names(listKeys), names(rotateKey), names(retireKey), names(rotateMasterKey), names(jwks),
            names(twoFactorStatus), names(enrolTwoFactor), names(confirmTwoFactor), names(disableTwoFactor), names(regenerateRecoveryCodes),
            names(createAPIKey), names(listAPIKeys), names(revokeAPIKey), names(revokeAllAPIKeys), names(verifyAPIKey),
        ])
    }()
}
