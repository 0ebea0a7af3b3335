import NIOCore
import SodiumKit
import TesseraCore
import TesseraProtocol

/// Answers frames with the domain: VERIFY batches here, every other operation through its
/// entry in ``operations``.
///
/// Knows operations and the domain; knows nothing of channels. Adding an operation is one
/// entry in ``makeTable(service:configuration:)``.
struct RequestDispatcher: RequestDispatching {
    let service: AuthService
    let configuration: ServerConfiguration
    let operations: OperationTable

    init(service: AuthService, configuration: ServerConfiguration) {
        self.service = service
        self.configuration = configuration
        operations = Self.makeTable(service: service, configuration: configuration)
    }

    var maximumFrameLength: UInt32 { configuration.maximumFrameLength }
    var maximumInFlight: UInt32 { configuration.maximumInFlight }

    func answerInline(_ frame: Frame, peer: PeerClass, into out: inout ByteBuffer) throws {
        try operations.answerInline(frame, peer: peer, into: &out)
    }

    /// The operations that hash a password (argon2id): they start only while the hashing pool
    /// has room.
    static let hashingOperations: Set<UInt8> = [Opcode.createUser, .login, .changePassword, .setPassword, .disableTwoFactor].reduce(into: []) {
        $0.insert($1.rawValue)
    }

    func admitsSlow(_ opcode: UInt8) -> Bool {
        !Self.hashingOperations.contains(opcode) || service.hashingHasRoom
    }

    func answerSlow(_ frame: Frame, peer: PeerClass) async throws -> ByteBuffer {
        try await operations.answerSlow(frame, peer: peer)
    }

    // MARK: The operations

    static func makeTable(service: AuthService, configuration: ServerConfiguration) -> OperationTable {
        let (accounts, sessions) = (service.accounts, service.sessions)
        let users = SelfService(verification: service.verification)
        var table = OperationTable()

        table.inline(Operations.hello) { hello in
            guard hello.protocolVersion >= 1 else {
                throw RequestFailure(status: .unsupportedVersion, message: "this server speaks protocol version \(ProtocolVersion.current)")
            }
            return HelloResponse(
                protocolVersion: min(hello.protocolVersion, ProtocolVersion.current), serverName: ServerConfiguration.serverName,
                maximumFrameLength: configuration.maximumFrameLength, maximumInFlight: configuration.maximumInFlight,
                maximumQueuedHashes: UInt32(clamping: service.configuration.hashingQueueLimit))
        }
        table.inline(Operations.ping) { $0 }

        // Users
        table.slow(Operations.createUser) { request in
            var new = NewUser(
                username: request.username, password: SecretBytes(wiping: &request.password), email: request.profile.email,
                displayName: request.profile.displayName, roles: request.profile.roles)
            new.profile = try ProfileChanges(request.profile, roles: nil, settings: request.profile.settings)
            new.unvalidated = request.unvalidated
            let (user, code) = try await accounts.register(new)
            return UserResponse(user: UserInfo(user), validationCode: code?.code, validationExpiresAt: code?.expiresAt)
        }
        table.inline(
            Operations.getUser,
            withPeer: { user, peer in UserResponse(user: UserInfo(try accounts.user(try users.lookup(user, peer: peer, reading: true)))) })
        table.slow(
            Operations.updateUser,
            withPeer: { request, peer in
                let lookup = try users.lookup(request.user, peer: peer)
                try users.checkChanges(request, peer: peer)
                let changes = try ProfileChanges(request.changes, roles: request.roles, settings: request.settings)
                return UserResponse(user: UserInfo(try await accounts.updateProfile(lookup, changes)))
            })
        table.slow(Operations.setUserState) { request in
            let state = try AccountState(wire: request.state)
            return UserResponse(user: UserInfo(try await accounts.setState(try users.lookup(request.user), to: state)))
        }
        table.slow(Operations.unlockUser) { user in
            try await accounts.unlock(try users.lookup(user))
            return EmptyMessage()
        }
        table.slow(Operations.changePassword) { request in
            try await accounts.changePassword(
                token: request.token, current: SecretBytes(wiping: &request.currentPassword),
                new: SecretBytes(wiping: &request.newPassword))
            return EmptyMessage()
        }
        table.slow(Operations.setPassword) { request in
            try await accounts.setPassword(try users.lookup(request.user), to: SecretBytes(wiping: &request.password))
            return EmptyMessage()
        }
        table.slow(Operations.deleteUser) { user in
            try await accounts.deleteUser(try users.lookup(user))
            return EmptyMessage()
        }
        table.slow(Operations.listUsers) { request in
            let users = try accounts.listUsers(after: request.afterID, limit: Int(request.limit))
            return UserListResponse(users: users.map(UserInfo.init), nextAfterID: users.count == Int(request.limit) ? users.last?.id : nil)
        }
        table.slow(Operations.validate) { UserResponse(user: UserInfo(try await accounts.validate(code: $0.code))) }
        // Any selector: the account cannot log in yet, so it has no session token.
        table.slow(Operations.newValidationCode) { user in
            let (profile, code) = try await accounts.newValidationCode(for: try users.lookup(user))
            return UserResponse(user: UserInfo(profile), validationCode: code.code, validationExpiresAt: code.expiresAt)
        }

        // Sessions
        table.slow(Operations.login) { request in
            let attempt = LoginAttempt(
                identifier: request.identifier, password: SecretBytes(wiping: &request.password),
                clientIP: request.clientIP, userAgent: request.userAgent,
                lifetimeSeconds: request.lifetimeSeconds, idleTimeoutSeconds: request.idleTimeoutSeconds, withJWT: request.jwt,
                secondFactor: TwoFactorProof(code: request.code, recoveryCode: request.recoveryCode))
            return LoginResponse(try await sessions.login(attempt))
        }
        table.slow(Operations.refresh) { request in
            LoginResponse(
                try await sessions.refresh(request.refreshToken, clientIP: request.clientIP, userAgent: request.userAgent, withJWT: request.jwt))
        }
        table.slow(Operations.logout) { request in
            try await sessions.logout(token: request.token)
            return EmptyMessage()
        }
        table.slow(
            Operations.listSessions,
            withPeer: { request, peer in
                let after = try request.afterSessionID.map { try SessionID(wire: $0) }
                let page = try sessions.list(of: try users.lookup(request.user, peer: peer, reading: true), after: after, limit: Int(request.limit))
                return SessionListResponse(sessions: page.sessions.map(SessionInfo.init), nextAfterSessionID: page.next?.bytes)
            })
        table.slow(
            Operations.revokeSession,
            withPeer: { request, peer in
                let owner = try users.owner(sessionToken: request.sessionToken, peer: peer)
                try await sessions.revokeSession(try SessionID(wire: request.sessionID), ofUser: owner)
                return EmptyMessage()
            })
        table.slow(Operations.revokeAllSessions) { request in
            let except = try request.exceptSessionID.map { try SessionID(wire: $0) }
            return CountResponse(count: UInt32(clamping: try await sessions.revokeAllSessions(try users.lookup(request.user), except: except)))
        }

        // Keys
        let keys = service.keys
        table.inline(Operations.jwks) { _ in JWKSResponse(jwks: keys.jwks()) }
        table.inline(Operations.listKeys) { _ in KeyListResponse(keys: keys.list().map(KeyInfo.init)) }
        table.slow(Operations.rotateKey) { request in
            let purpose = TokenKey.Purpose(rawValue: request.purpose) ?? .tokenDigest
            return KeyResponse(key: KeyInfo(try await keys.rotate(purpose)))
        }
        table.slow(Operations.retireKey) { request in
            let (key, ended) = try await keys.retire(request.keyID)
            return RetireKeyResponse(key: KeyInfo(key), sessionsEnded: UInt64(ended))
        }
        table.slow(Operations.rotateMasterKey) { request in
            RotateMasterKeyResponse(keysSealed: UInt32(clamping: try await keys.rotateMaster(newKeyFile: request.path)))
        }

        // Two-factor login: an application peer acts on the user of a session token, and proves
        // the second factor (with the password, to disable it) where an administrator need not.
        let twoFactor = service.twoFactor
        table.inline(
            Operations.twoFactorStatus,
            withPeer: { user, peer in TwoFactorStatusResponse(try twoFactor.status(try users.lookup(user, peer: peer, reading: true))) })
        table.slow(
            Operations.enrolTwoFactor,
            withPeer: { request, peer in
                let options = TwoFactorOptions(
                    algorithm: HMAC.Algorithm(wireValue: request.algorithm) ?? .sha1, digits: Int(request.digits), issuer: request.issuer,
                    accountName: request.accountName)
                return EnrolTwoFactorResponse(try await twoFactor.enrol(try users.lookup(request.user, peer: peer), options))
            })
        table.slow(
            Operations.confirmTwoFactor,
            withPeer: { request, peer in
                RecoveryCodesResponse(recoveryCodes: try await twoFactor.confirm(try users.lookup(request.user, peer: peer), code: request.code))
            })
        table.slow(
            Operations.disableTwoFactor,
            withPeer: { request, peer in
                let lookup = try users.lookup(request.user, peer: peer)
                let proof = TwoFactorProof(code: request.code, recoveryCode: request.recoveryCode)
                guard var password = request.password else {
                    guard peer == .admin else {
                        throw RequestFailure(
                            status: .invalidArgument, message: "disabling two-factor login needs the password and a current code or a recovery code")
                    }
                    try await twoFactor.disable(lookup, password: nil, proof: nil)
                    return EmptyMessage()
                }
                try await twoFactor.disable(lookup, password: SecretBytes(wiping: &password), proof: proof)
                return EmptyMessage()
            })
        table.slow(
            Operations.regenerateRecoveryCodes,
            withPeer: { request, peer in
                guard request.code != nil || peer == .admin else {
                    throw RequestFailure(status: .invalidArgument, message: "regenerating recovery codes needs a current code")
                }
                let codes = try await twoFactor.regenerateRecoveryCodes(try users.lookup(request.user, peer: peer), code: request.code)
                return RecoveryCodesResponse(recoveryCodes: codes)
            })

        // API keys: an application peer makes, lists and revokes the keys of the user of a
        // session token; anyone it serves may present one.
        let apiKeys = service.apiKeys
        table.slow(
            Operations.createAPIKey,
            withPeer: { request, peer in
                let new = NewAPIKey(name: request.name, lifetimeSeconds: request.lifetimeSeconds, permissions: request.permissions)
                let (key, info) = try await apiKeys.create(try users.lookup(request.user, peer: peer), new)
                return CreateAPIKeyResponse(key: key, apiKey: APIKeyInfo(info))
            })
        table.slow(
            Operations.listAPIKeys,
            withPeer: { user, peer in
                APIKeyListResponse(apiKeys: try apiKeys.list(try users.lookup(user, peer: peer, reading: true)).map(APIKeyInfo.init))
            })
        table.slow(
            Operations.revokeAPIKey,
            withPeer: { request, peer in
                let owner = try users.owner(sessionToken: request.sessionToken, peer: peer)
                try await apiKeys.revoke(try SessionID(wire: request.keyID), ofUser: owner)
                return EmptyMessage()
            })
        table.slow(
            Operations.revokeAllAPIKeys,
            withPeer: { user, peer in CountResponse(count: UInt32(clamping: try await apiKeys.revokeAll(try users.lookup(user, peer: peer)))) })
        table.inline(Operations.verifyAPIKey) { request in
            let key = try apiKeys.verify(key: request.key)
            return VerifyAPIKeyResponse(
                userID: key.userID, keyID: key.sessionID.bytes, name: key.apiKeyName ?? "", permissions: key.roles,
                expiresAt: key.expiresAt == 0 ? nil : key.expiresAt)
        }
        return table
    }

    // MARK: VERIFY, the hot path

    func answerVerifies(_ frames: [Frame], into out: inout ByteBuffer) -> [(Frame, any Error)] {
        let now = service.clock.now()
        var failures: [(Frame, any Error)] = []
        var touches: [SessionID] = []
        var apiKeyTouches: [SessionID] = []
        do {
            try service.verification.withSnapshot { snapshot in
                for frame in frames {
                    do {
                        if let due = try answerVerify(frame, in: snapshot, now: now, into: &out) {
                            if due.isAPIKey { apiKeyTouches.append(due.id) } else { touches.append(due.id) }
                        }
                    } catch {
                        failures.append((frame, Self.verifyFailure(error, frame)))
                    }
                }
            }
        } catch {
            failures = frames.map { ($0, error) }
        }
        service.verification.touch(touches, apiKeys: apiKeyTouches, at: now)
        return failures
    }

    /// Verifies one token (or API key) inside `snapshot` and writes the reply into `out`.
    /// Returns the session's (or key's) id when its last-seen (last-used) time is due.
    @inline(__always)
    private func answerVerify(
        _ frame: Frame, in snapshot: ReadSnapshot, now: Timestamp, into out: inout ByteBuffer
    ) throws -> (id: SessionID, isAPIKey: Bool)? {
        let (tokenField, withUser) = try VerifyRequest.fields(in: frame.body)
        let session = try tokenField.withUnsafeReadableBytes { token in try snapshot.verify(token: token, now: now) }
        let user = withUser ? try snapshot.user(id: session.userID).map(UserInfo.init) : nil
        let start = VerifyResponse.writeSessionReply(
            opcode: frame.opcode, requestID: frame.requestID, userID: session.userID,
            sessionID: (session.sessionID.high, session.sessionID.low), expiresAt: session.expiresAt,
            forEachRole: session.forEachRole, into: &out)
        if user != nil || session.isAPIKey {
            do {
                if let user { try VerifyResponse.writeUser(user, into: &out) }
                if let name = session.apiKeyName { VerifyResponse.writeAPIKeyName(name, into: &out) }
            } catch {
                out.moveWriterIndex(to: start)
                throw error
            }
            out.finishFrame(startingAt: start)
        }
        return session.touchDue ? (session.sessionID, session.isAPIKey) : nil
    }

    /// A token that is not UTF-8 is a malformed string field, as in every other message
    /// (`invalid-argument`), not an unknown token. Checked only after the token failed.
    private static func verifyFailure(_ error: any Error, _ frame: Frame) -> any Error {
        guard case AuthError.tokenInvalid = error, let (token, _) = try? VerifyRequest.fields(in: frame.body),
            token.withUnsafeReadableBytes({ String(validating: $0, as: UTF8.self) }) == nil
        else { return error }
        return ProtocolError.invalidUTF8(tag: 1)
    }
}
