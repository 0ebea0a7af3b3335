import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

// The wire's shapes to the domain's and back. Wire values out of range for the domain are
// `invalid-argument`.

extension UserInfo {
    init(_ profile: UserProfile) {
        self.init(
            id: profile.id, username: profile.username, email: profile.email, displayName: profile.displayName,
            createdAt: profile.createdAt, roles: profile.roles, state: profile.state.rawValue, updatedAt: profile.updatedAt)
        phone = profile.phone
        imageURL = profile.imageURL
        accountType = profile.accountType.rawValue
        rootRole = profile.rootRole
        externalID = profile.externalID
        lastLoginAt = profile.lastLoginAt == 0 ? nil : profile.lastLoginAt
        failedLogins = profile.failedLogins
        settings = profile.settings
        attributes = profile.attributes
    }

    /// What sending a validation code needs, for a web process that named an account by an
    /// address (NEW_VALIDATION_CODE): whom to write to and how to greet them, none of the rest of
    /// the profile (roles, settings, external id, image, root role). An administrator is
    /// answered with the whole user.
    static func addressee(_ profile: UserProfile) -> UserInfo {
        var info = UserInfo(
            id: profile.id, username: profile.username, email: profile.email, displayName: profile.displayName,
            createdAt: profile.createdAt, roles: [], state: profile.state.rawValue, updatedAt: profile.updatedAt)
        info.phone = profile.phone
        info.accountType = profile.accountType.rawValue
        return info
    }
}

extension ProfileChanges {
    /// `roles` and `settings`: `nil` leaves them alone; `removingAttributes`: names to remove.
    init(_ fields: ProfileFields, roles: [String]?, settings: [String: String]?, removingAttributes: [String] = []) throws {
        self.init()
        email = fields.email
        displayName = fields.displayName
        phone = fields.phone
        imageURL = fields.imageURL
        if let type = fields.accountType {
            guard let known = AccountType(rawValue: type) else {
                throw RequestFailure(status: .invalidArgument, message: "account_type must be 0 (user) or 1 (service)")
            }
            accountType = known
        }
        rootRole = fields.rootRole
        externalID = fields.externalID
        self.roles = roles
        self.settings = settings
        attributes = fields.attributes
        removedAttributes = removingAttributes
    }
}

extension ImportedUser {
    /// A record of IMPORT_USERS; its fields are checked by the import, record by record.
    init(_ message: ImportedUserMessage) throws {
        self.init(username: message.username)
        profile = try ProfileChanges(message.profile, roles: message.profile.roles, settings: message.profile.settings)
        passwordHash = message.passwordHash
        state = try AccountState(wire: message.state)
        createdAt = message.createdAt
        totpSecret = message.totpSecret
        totpAlgorithm = HMAC.Algorithm(wireValue: message.totpAlgorithm) ?? .sha1
        totpDigits = Int(message.totpDigits)
        sessions = message.sessions.map { ImportedSession(tokenSHA256: $0.tokenSHA256, createdAt: $0.createdAt, expiresAt: $0.expiresAt) }
        apiKeys = message.apiKeys.map {
            ImportedAPIKey(tokenSHA256: $0.tokenSHA256, name: $0.name, createdAt: $0.createdAt, expiresAt: $0.expiresAt)
        }
        let codes = message.recoveryCodeSHA256
        guard codes.count % 32 == 0 else { throw AuthError.invalidArgument("recovery_code_sha256 must be 32 bytes a code") }
        recoveryCodeDigests = stride(from: 0, to: codes.count, by: 32).map { Array(codes[$0..<$0 + 32]) }
    }
}

extension ImportedUserMessage {
    /// A user as EXPORT_USERS gives it: what IMPORT_USERS takes back.
    init(_ user: ImportedUser) {
        let profile = user.profile
        self.init(
            username: user.username,
            profile: ProfileFields(
                email: profile.email, displayName: profile.displayName, roles: profile.roles ?? [], phone: profile.phone,
                imageURL: profile.imageURL, accountType: profile.accountType?.rawValue, rootRole: profile.rootRole,
                externalID: profile.externalID, settings: profile.settings ?? [:], attributes: profile.attributes),
            createdAt: user.createdAt, state: user.state.rawValue, passwordHash: user.passwordHash, totpSecret: user.totpSecret,
            totpAlgorithm: user.totpAlgorithm.wireValue, totpDigits: UInt8(user.totpDigits))
    }
}

extension LoginResponse {
    init(_ result: LoginResult) {
        self.init(
            token: result.token, sessionID: result.sessionID.bytes, expiresAt: result.expiresAt, user: UserInfo(result.user),
            refreshToken: result.refreshToken, refreshExpiresAt: result.refreshExpiresAt)
        jwt = result.jwt
        jwtExpiresAt = result.jwtExpiresAt
        recoveryCodesLeft = result.recoveryCodesLeft.map { UInt8(clamping: $0) }
    }
}

extension TesseraProtocol.APIKeyInfo {
    init(_ key: TesseraCore.APIKeyInfo) {
        self.init(
            keyID: key.id.bytes, name: key.name, prefix: key.prefix, createdAt: key.createdAt, expiresAt: key.expiresAt,
            lastUsedAt: key.lastUsedAt, revokedAt: key.revokedAt, permissions: key.permissions)
    }
}

extension TwoFactorStatusResponse {
    init(_ status: TwoFactorStatus) {
        guard let state = status.state else {
            self.init(state: 0)
            return
        }
        self.init(
            state: state.rawValue, algorithm: status.algorithm.wireValue, digits: UInt8(status.digits), periodSeconds: UInt8(status.periodSeconds),
            createdAt: status.createdAt, confirmedAt: state == .enrolled ? status.confirmedAt : nil,
            recoveryCodesLeft: UInt8(clamping: status.recoveryCodesLeft))
    }
}

extension EnrolTwoFactorResponse {
    init(_ enrolment: TwoFactorEnrolment) {
        self.init(
            secret: enrolment.secret, uri: enrolment.uri, algorithm: enrolment.algorithm.wireValue, digits: UInt8(enrolment.digits),
            periodSeconds: UInt8(enrolment.periodSeconds))
    }
}

extension TwoFactorProof {
    /// The proof a request carries: a TOTP code, else a recovery code; `nil` for neither.
    init?(code: String?, recoveryCode: String?) {
        if let code {
            self = .code(code)
        } else if let recoveryCode {
            self = .recoveryCode(recoveryCode)
        } else {
            return nil
        }
    }
}

extension SessionInfo {
    init(_ summary: SessionSummary) {
        self.init(
            sessionID: summary.id.bytes, createdAt: summary.createdAt, expiresAt: summary.expiresAt, clientIP: summary.clientIP,
            userAgent: summary.userAgent)
    }
}

extension KeyInfo {
    init(_ key: TokenKeyInfo) {
        self.init(
            id: key.id, purpose: key.purpose.rawValue, state: key.state.rawValue, createdAt: key.createdAt,
            activatedAt: key.activatedAt == 0 ? nil : key.activatedAt,
            verifyOnlySince: key.verifyOnlySince == 0 ? nil : key.verifyOnlySince, retiresAt: key.retiresAt == 0 ? nil : key.retiresAt)
    }
}

extension AccountState {
    init(wire: UInt8) throws {
        guard let state = AccountState(rawValue: wire) else {
            throw RequestFailure(status: .invalidArgument, message: "state must be 0 (active), 1 (unvalidated) or 2 (disabled)")
        }
        self = state
    }
}

extension Identifier {
    init(wire bytes: [UInt8]) throws {
        guard let id = Self(bytes: bytes) else {
            throw RequestFailure(status: .invalidArgument, message: "an id is 16 bytes, not \(bytes.count)")
        }
        self = id
    }
}

extension Reauthentication {
    /// The re-authentication a request carries: its password, with a code or a recovery code;
    /// `nil` without a password (from an administrator, as the declaration's rule allows).
    init?(password: [UInt8]?, code: String?, recoveryCode: String? = nil) {
        guard var password else { return nil }
        self.init(password: SecretBytes(wiping: &password), secondFactor: TwoFactorProof(code: code, recoveryCode: recoveryCode))
    }
}
