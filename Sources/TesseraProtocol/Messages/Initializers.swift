// Written by scripts/write-initializers from the messages' stored properties: do not edit.
// A property without a default is a parameter to give; one with a default, or an optional,
// may be left out.

public import TesseraModel

extension APIKeyInfo {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.keyID = []
        self.name = ""
        self.prefix = ""
        self.createdAt = 0
    }

    public init(
        keyID: [UInt8], name: String, prefix: String, createdAt: Int64, expiresAt: Int64? = nil, lastUsedAt: Int64? = nil, revokedAt: Int64? = nil,
        permissions: [String] = []
    ) {
        self.keyID = keyID
        self.name = name
        self.prefix = prefix
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
        self.permissions = permissions
    }
}

extension CreateAPIKeyRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
        self.name = ""
    }

    public init(
        user: UserSelector, name: String, lifetimeSeconds: UInt32? = nil, permissions: [String] = [], password: [UInt8]? = nil, code: String? = nil,
        recoveryCode: String? = nil
    ) {
        self.user = user
        self.name = name
        self.lifetimeSeconds = lifetimeSeconds
        self.permissions = permissions
        self.password = password
        self.code = code
        self.recoveryCode = recoveryCode
    }
}

extension CreateAPIKeyResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.key = ""
        self.apiKey = APIKeyInfo()
    }

    public init(key: String, apiKey: APIKeyInfo) {
        self.key = key
        self.apiKey = apiKey
    }
}

extension APIKeyListResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.apiKeys = []
    }

    public init(apiKeys: [APIKeyInfo]) {
        self.apiKeys = apiKeys
    }
}

extension RevokeAPIKeyRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.keyID = []
    }

    public init(keyID: [UInt8], sessionToken: String? = nil) {
        self.keyID = keyID
        self.sessionToken = sessionToken
    }
}

extension VerifyAPIKeyRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.key = ""
    }

    public init(key: String) {
        self.key = key
    }
}

extension VerifyAPIKeyResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.userID = 0
        self.keyID = []
        self.name = ""
        self.permissions = []
    }

    public init(userID: UInt64, keyID: [UInt8], name: String, permissions: [String], expiresAt: Int64? = nil) {
        self.userID = userID
        self.keyID = keyID
        self.name = name
        self.permissions = permissions
        self.expiresAt = expiresAt
    }
}

extension ErrorBody {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.name = ""
        self.message = ""
    }

    public init(name: String, message: String, traceID: String? = nil, retryAfterSeconds: UInt32? = nil) {
        self.name = name
        self.message = message
        self.traceID = traceID
        self.retryAfterSeconds = retryAfterSeconds
    }
}

extension HelloRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }

    public init(protocolVersion: UInt16 = ProtocolVersion.current, clientName: String? = nil) {
        self.protocolVersion = protocolVersion
        self.clientName = clientName
    }
}

extension HelloResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.protocolVersion = 0
        self.serverName = ""
        self.maximumFrameLength = 0
        self.maximumInFlight = 0
    }

    public init(protocolVersion: UInt16, serverName: String, maximumFrameLength: UInt32, maximumInFlight: UInt32, maximumQueuedHashes: UInt32? = nil)
    {
        self.protocolVersion = protocolVersion
        self.serverName = serverName
        self.maximumFrameLength = maximumFrameLength
        self.maximumInFlight = maximumInFlight
        self.maximumQueuedHashes = maximumQueuedHashes
    }
}

extension PingMessage {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.payload = []
    }

    public init(payload: [UInt8]) {
        self.payload = payload
    }
}

extension EmptyMessage {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }
}

extension ImportedUserMessage {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.username = ""
    }

    public init(
        username: String, profile: ProfileFields = ProfileFields(), createdAt: Int64? = nil, state: UInt8 = 0, passwordHash: String? = nil,
        totpSecret: [UInt8]? = nil, totpAlgorithm: UInt8 = 1, totpDigits: UInt8 = 6, sessions: [ImportedSessionMessage] = [],
        apiKeys: [ImportedAPIKeyMessage] = [], recoveryCodeSHA256: [UInt8] = []
    ) {
        self.username = username
        self.profile = profile
        self.createdAt = createdAt
        self.state = state
        self.passwordHash = passwordHash
        self.totpSecret = totpSecret
        self.totpAlgorithm = totpAlgorithm
        self.totpDigits = totpDigits
        self.sessions = sessions
        self.apiKeys = apiKeys
        self.recoveryCodeSHA256 = recoveryCodeSHA256
    }
}

extension ImportedSessionMessage {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.tokenSHA256 = []
        self.createdAt = 0
        self.expiresAt = 0
    }

    public init(tokenSHA256: [UInt8], createdAt: Int64, expiresAt: Int64) {
        self.tokenSHA256 = tokenSHA256
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

extension ImportedAPIKeyMessage {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.tokenSHA256 = []
        self.name = ""
        self.createdAt = 0
    }

    public init(tokenSHA256: [UInt8], name: String, createdAt: Int64, expiresAt: Int64 = 0) {
        self.tokenSHA256 = tokenSHA256
        self.name = name
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }
}

extension ImportUsersRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }

    public init(users: [ImportedUserMessage] = [], dryRun: Bool = false, source: String? = nil, position: UInt64? = nil) {
        self.users = users
        self.dryRun = dryRun
        self.source = source
        self.position = position
    }
}

extension ImportRejection {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.index = 0
        self.reason = ""
    }

    public init(index: UInt32, reason: String) {
        self.index = index
        self.reason = reason
    }
}

extension ImportUsersResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.created = 0
        self.unchanged = 0
        self.rejected = []
        self.position = 0
    }

    public init(created: UInt32, unchanged: UInt32, rejected: [ImportRejection], position: UInt64, sessions: UInt32 = 0, apiKeys: UInt32 = 0) {
        self.created = created
        self.unchanged = unchanged
        self.rejected = rejected
        self.position = position
        self.sessions = sessions
        self.apiKeys = apiKeys
    }
}

extension ExportUsersRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }

    public init(afterID: UInt64 = 0, limit: UInt32 = 100, twoFactorSecrets: Bool = false) {
        self.afterID = afterID
        self.limit = limit
        self.twoFactorSecrets = twoFactorSecrets
    }
}

extension ExportUsersResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }

    public init(users: [ImportedUserMessage] = [], nextAfterID: UInt64? = nil) {
        self.users = users
        self.nextAfterID = nextAfterID
    }
}

extension KeyListResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.keys = []
    }

    public init(keys: [KeyInfo]) {
        self.keys = keys
    }
}

extension RotateKeyRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }

    public init(purpose: UInt8 = 1) {
        self.purpose = purpose
    }
}

extension KeyResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.key = KeyInfo()
    }

    public init(key: KeyInfo) {
        self.key = key
    }
}

extension RetireKeyRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.keyID = 0
    }

    public init(keyID: UInt16) {
        self.keyID = keyID
    }
}

extension RetireKeyResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.key = KeyInfo()
        self.sessionsEnded = 0
    }

    public init(key: KeyInfo, sessionsEnded: UInt64) {
        self.key = key
        self.sessionsEnded = sessionsEnded
    }
}

extension RotateMasterKeyRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.path = ""
    }

    public init(path: String) {
        self.path = path
    }
}

extension RotateMasterKeyResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.keysSealed = 0
    }

    public init(keysSealed: UInt32) {
        self.keysSealed = keysSealed
    }
}

extension JWKSResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.jwks = ""
    }

    public init(jwks: String) {
        self.jwks = jwks
    }
}

extension LoginRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.identifier = ""
        self.password = []
    }

    public init(
        identifier: String, password: [UInt8], clientIP: String? = nil, userAgent: String? = nil, lifetimeSeconds: UInt32? = nil,
        idleTimeoutSeconds: UInt32? = nil, jwt: Bool = false, code: String? = nil, recoveryCode: String? = nil, passwordIsSHA256Hex: Bool = false
    ) {
        self.identifier = identifier
        self.password = password
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.lifetimeSeconds = lifetimeSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.jwt = jwt
        self.code = code
        self.recoveryCode = recoveryCode
        self.passwordIsSHA256Hex = passwordIsSHA256Hex
    }
}

extension LoginResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.token = ""
        self.sessionID = []
        self.expiresAt = 0
        self.user = UserInfo()
        self.refreshToken = ""
        self.refreshExpiresAt = 0
    }

    public init(
        token: String, sessionID: [UInt8], expiresAt: Int64, user: UserInfo, refreshToken: String, refreshExpiresAt: Int64, jwt: String? = nil,
        jwtExpiresAt: Int64? = nil, recoveryCodesLeft: UInt8? = nil
    ) {
        self.token = token
        self.sessionID = sessionID
        self.expiresAt = expiresAt
        self.user = user
        self.refreshToken = refreshToken
        self.refreshExpiresAt = refreshExpiresAt
        self.jwt = jwt
        self.jwtExpiresAt = jwtExpiresAt
        self.recoveryCodesLeft = recoveryCodesLeft
    }
}

extension RefreshRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.refreshToken = ""
    }

    public init(refreshToken: String, clientIP: String? = nil, userAgent: String? = nil, jwt: Bool = false) {
        self.refreshToken = refreshToken
        self.clientIP = clientIP
        self.userAgent = userAgent
        self.jwt = jwt
    }
}

extension TokenRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.token = ""
    }

    public init(token: String) {
        self.token = token
    }
}

extension VerifyRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.token = ""
    }

    public init(token: String, withUser: Bool = false, withAPIKeys: Bool = false) {
        self.token = token
        self.withUser = withUser
        self.withAPIKeys = withAPIKeys
    }
}

extension VerifyResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.userID = 0
        self.sessionID = []
        self.expiresAt = 0
        self.roles = []
    }

    public init(
        userID: UInt64, sessionID: [UInt8], expiresAt: Int64, roles: [String], user: UserInfo? = nil, apiKeyName: String? = nil,
        apiKeys: [APIKeyInfo] = []
    ) {
        self.userID = userID
        self.sessionID = sessionID
        self.expiresAt = expiresAt
        self.roles = roles
        self.user = user
        self.apiKeyName = apiKeyName
        self.apiKeys = apiKeys
    }
}

extension SessionInfo {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.sessionID = []
        self.createdAt = 0
        self.expiresAt = 0
    }

    public init(sessionID: [UInt8], createdAt: Int64, expiresAt: Int64, clientIP: String? = nil, userAgent: String? = nil) {
        self.sessionID = sessionID
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.clientIP = clientIP
        self.userAgent = userAgent
    }
}

extension ListSessionsRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
    }

    public init(user: UserSelector, afterSessionID: [UInt8]? = nil, limit: UInt32 = 100) {
        self.user = user
        self.afterSessionID = afterSessionID
        self.limit = limit
    }
}

extension SessionListResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.sessions = []
    }

    public init(sessions: [SessionInfo], nextAfterSessionID: [UInt8]? = nil) {
        self.sessions = sessions
        self.nextAfterSessionID = nextAfterSessionID
    }
}

extension SessionIDRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.sessionID = []
    }

    public init(sessionID: [UInt8], sessionToken: String? = nil) {
        self.sessionID = sessionID
        self.sessionToken = sessionToken
    }
}

extension RevokeAllSessionsRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
    }

    public init(user: UserSelector, exceptSessionID: [UInt8]? = nil) {
        self.user = user
        self.exceptSessionID = exceptSessionID
    }
}

extension RevokeAllSessionsResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.count = 0
        self.apiKeys = 0
    }

    public init(count: UInt32, apiKeys: UInt32) {
        self.count = count
        self.apiKeys = apiKeys
    }
}

extension CountResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.count = 0
    }

    public init(count: UInt32) {
        self.count = count
    }
}

extension Setting {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.key = ""
        self.value = ""
    }

    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}

extension TwoFactorStatusResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.state = 0
    }

    public init(
        state: UInt8, algorithm: UInt8? = nil, digits: UInt8? = nil, periodSeconds: UInt8? = nil, createdAt: Int64? = nil, confirmedAt: Int64? = nil,
        recoveryCodesLeft: UInt8? = nil
    ) {
        self.state = state
        self.algorithm = algorithm
        self.digits = digits
        self.periodSeconds = periodSeconds
        self.createdAt = createdAt
        self.confirmedAt = confirmedAt
        self.recoveryCodesLeft = recoveryCodesLeft
    }
}

extension EnrolTwoFactorRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
    }

    public init(
        user: UserSelector, algorithm: UInt8 = 1, digits: UInt8 = 6, issuer: String? = nil, accountName: String? = nil, password: [UInt8]? = nil,
        code: String? = nil, recoveryCode: String? = nil
    ) {
        self.user = user
        self.algorithm = algorithm
        self.digits = digits
        self.issuer = issuer
        self.accountName = accountName
        self.password = password
        self.code = code
        self.recoveryCode = recoveryCode
    }
}

extension EnrolTwoFactorResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.secret = ""
        self.uri = ""
    }

    public init(secret: String, uri: String, algorithm: UInt8 = 1, digits: UInt8 = 6, periodSeconds: UInt8 = 30) {
        self.secret = secret
        self.uri = uri
        self.algorithm = algorithm
        self.digits = digits
        self.periodSeconds = periodSeconds
    }
}

extension ConfirmTwoFactorRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
        self.code = ""
    }

    public init(user: UserSelector, code: String, password: [UInt8]? = nil) {
        self.user = user
        self.code = code
        self.password = password
    }
}

extension RecoveryCodesResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.recoveryCodes = []
    }

    public init(recoveryCodes: [String]) {
        self.recoveryCodes = recoveryCodes
    }
}

extension DisableTwoFactorRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
    }

    public init(user: UserSelector, password: [UInt8]? = nil, code: String? = nil, recoveryCode: String? = nil) {
        self.user = user
        self.password = password
        self.code = code
        self.recoveryCode = recoveryCode
    }
}

extension RegenerateRecoveryCodesRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
    }

    public init(user: UserSelector, code: String? = nil) {
        self.user = user
        self.code = code
    }
}

extension UserResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserInfo()
    }

    public init(user: UserInfo, validationCode: String? = nil, validationExpiresAt: Int64? = nil) {
        self.user = user
        self.validationCode = validationCode
        self.validationExpiresAt = validationExpiresAt
    }
}

extension ProfileFields {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }

    public init(
        email: String? = nil, displayName: String? = nil, roles: [String] = [], phone: String? = nil, imageURL: String? = nil,
        accountType: UInt8? = nil, rootRole: String? = nil, externalID: String? = nil, settings: [String: String] = [:],
        attributes: [String: AttributeValue] = [:]
    ) {
        self.email = email
        self.displayName = displayName
        self.roles = roles
        self.phone = phone
        self.imageURL = imageURL
        self.accountType = accountType
        self.rootRole = rootRole
        self.externalID = externalID
        self.settings = settings
        self.attributes = attributes
    }
}

extension SetUserStateRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
        self.state = 0
    }

    public init(user: UserSelector, state: UInt8) {
        self.user = user
        self.state = state
    }
}

extension SetPasswordRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.user = UserSelector()
        self.password = []
    }

    public init(user: UserSelector, password: [UInt8]) {
        self.user = user
        self.password = password
    }
}

extension SetPasswordResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.sessions = 0
        self.apiKeys = 0
    }

    public init(sessions: UInt32, apiKeys: UInt32) {
        self.sessions = sessions
        self.apiKeys = apiKeys
    }
}

extension ChangePasswordRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.token = ""
        self.currentPassword = []
        self.newPassword = []
    }

    public init(token: String, currentPassword: [UInt8], newPassword: [UInt8]) {
        self.token = token
        self.currentPassword = currentPassword
        self.newPassword = newPassword
    }
}

extension ValidateRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.code = ""
    }

    public init(code: String) {
        self.code = code
    }
}

extension ListUsersRequest {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
    }

    public init(afterID: UInt64 = 0, limit: UInt32 = 100) {
        self.afterID = afterID
        self.limit = limit
    }
}

extension UserListResponse {
    /// Every field at its default or zero: what the decoder starts from (`init()`).
    init(zeroed: Void) {
        self.users = []
    }

    public init(users: [UserInfo], nextAfterID: UInt64? = nil) {
        self.users = users
        self.nextAfterID = nextAfterID
    }
}
