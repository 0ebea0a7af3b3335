import NIOCore
import SodiumKit
import TesseraCore
import TesseraProtocol

/// Translates request frames into domain calls and their results into reply bodies.
///
/// Knows frames and the domain; knows nothing of channels. Fast operations answer inline,
/// slow ones are `async` and run off the event loop.
struct RequestDispatcher: RequestDispatching {
    let service: AuthService
    let configuration: ServerConfiguration

    var maximumFrameLength: UInt32 { configuration.maximumFrameLength }
    var maximumInFlight: UInt32 { configuration.maximumInFlight }

    func answerVerifies(_ frames: [Frame], into out: inout ByteBuffer) -> [(Frame, any Error)] {
        let now = service.clock.now()
        var failures: [(Frame, any Error)] = []
        var touches: [SessionID] = []
        do {
            try service.verification.withSnapshot { snapshot in
                for frame in frames {
                    do {
                        if let due = try answerVerify(frame, in: snapshot, now: now, into: &out) { touches.append(due) }
                    } catch {
                        failures.append((frame, error))
                    }
                }
            }
        } catch {
            failures = frames.map { ($0, error) }
        }
        service.verification.touch(touches, at: now)
        return failures
    }

    /// Answers a cheap request into `out`.
    func answerInline(_ frame: Frame, into out: inout ByteBuffer) throws {
        switch Opcode(rawValue: frame.opcode) {
        case .hello:
            let hello = try HelloRequest(decoding: frame.body)
            guard hello.protocolVersion >= 1 else {
                throw RequestFailure(status: .unsupportedVersion, message: "this server speaks protocol version \(ProtocolVersion.current)")
            }
            let reply = HelloResponse(protocolVersion: min(hello.protocolVersion, ProtocolVersion.current),
                                      serverName: ServerConfiguration.serverName,
                                      maximumFrameLength: configuration.maximumFrameLength,
                                      maximumInFlight: configuration.maximumInFlight)
            out.writeReply(frame) { reply.encode(into: &$0) }
        case .ping:
            let ping = try PingMessage(decoding: frame.body)
            out.writeReply(frame) { ping.encode(into: &$0) }
        case .getUser:
            let user = try service.accounts.user(UserLookup(try GetUserRequest(decoding: frame.body)))
            out.writeReply(frame) { UserResponse(user: UserInfo(user)).encode(into: &$0) }
        case .listSessions:
            let sessions = try service.sessions.list(of: UserLookup(try GetUserRequest(decoding: frame.body)))
            let reply = SessionListResponse(sessions: sessions.map {
                SessionInfo(sessionID: $0.id.bytes, createdAt: $0.createdAt, expiresAt: $0.expiresAt, clientIP: $0.clientIP, userAgent: $0.userAgent)
            })
            out.writeReply(frame) { reply.encode(into: &$0) }
        case .listUsers:
            let request = try ListUsersRequest(decoding: frame.body)
            let users = try service.accounts.listUsers(after: request.afterID, limit: Int(request.limit))
            let reply = UserListResponse(users: users.map(UserInfo.init),
                                         nextAfterID: users.count == Int(request.limit) ? users.last?.id : nil)
            out.writeReply(frame) { reply.encode(into: &$0) }
        default:
            preconditionFailure("not an inline opcode")
        }
    }

    /// Runs a slow request and returns its encoded reply body.
    func answerSlow(_ frame: Frame) async throws -> ByteBuffer {
        var out = ByteBuffer()
        switch Opcode(rawValue: frame.opcode) {
        case .createUser:
            var request = try CreateUserRequest(decoding: frame.body)
            let password = SecretBytes(wiping: &request.password)
            var new = NewUser(username: request.username, password: password, email: request.email,
                              displayName: request.displayName, roles: request.roles)
            new.profile = try ProfileChanges(request.profile)
            new.unvalidated = request.unvalidated
            let (user, code) = try await service.accounts.register(new)
            UserResponse(user: UserInfo(user), validationCode: code).encode(into: &out)
        case .updateUser:
            let request = try UpdateUserRequest(decoding: frame.body)
            var changes = try ProfileChanges(request.profile)
            changes.email = request.email
            changes.displayName = request.displayName
            changes.roles = request.roles
            let user = try await service.accounts.updateProfile(UserLookup(request.user), changes)
            UserResponse(user: UserInfo(user)).encode(into: &out)
        case .validate:
            let user = try await service.accounts.validate(code: try ValidateRequest(decoding: frame.body).code)
            UserResponse(user: UserInfo(user)).encode(into: &out)
        case .login:
            var request = try LoginRequest(decoding: frame.body)
            let password = SecretBytes(wiping: &request.password)
            let result = try await service.sessions.login(LoginAttempt(identifier: request.identifier, password: password,
                                                              clientIP: request.clientIP, userAgent: request.userAgent,
                                                              lifetimeSeconds: request.lifetimeSeconds, idleTimeoutSeconds: request.idleTimeoutSeconds))
            LoginResponse(result).encode(into: &out)
        case .refresh:
            let request = try RefreshRequest(decoding: frame.body)
            let result = try await service.sessions.refresh(request.refreshToken, clientIP: request.clientIP, userAgent: request.userAgent)
            LoginResponse(result).encode(into: &out)
        case .logout:
            let request = try TokenRequest(decoding: frame.body)
            try await service.sessions.logout(token: request.token)
        case .setUserState:
            let request = try SetUserStateRequest(decoding: frame.body)
            let user = try await service.accounts.setState(UserLookup(request.user), to: AccountState(rawValue: request.state)!)
            UserResponse(user: UserInfo(user)).encode(into: &out)
        case .changePassword:
            var request = try ChangePasswordRequest(decoding: frame.body)
            let current = SecretBytes(wiping: &request.currentPassword)
            let new = SecretBytes(wiping: &request.newPassword)
            try await service.accounts.changePassword(token: request.token, current: current, new: new)
        case .setPassword:
            var request = try SetPasswordRequest(decoding: frame.body)
            let password = SecretBytes(wiping: &request.password)
            try await service.accounts.setPassword(UserLookup(request.user), to: password)
        case .deleteUser:
            try await service.accounts.deleteUser(UserLookup(try GetUserRequest(decoding: frame.body)))
        case .unlockUser:
            try await service.accounts.unlock(UserLookup(try GetUserRequest(decoding: frame.body)))
        case .revokeSession:
            let request = try SessionIDRequest(decoding: frame.body)
            try await service.sessions.revokeSession(SessionID(bytes: request.sessionID)!)
        case .revokeAllSessions:
            let request = try RevokeAllSessionsRequest(decoding: frame.body)
            let count = try await service.sessions.revokeAllSessions(UserLookup(request.user), except: request.exceptSessionID.flatMap { SessionID(bytes: $0) })
            CountResponse(count: UInt32(count)).encode(into: &out)
        default:
            preconditionFailure("not a slow opcode")
        }
        return out
    }

    /// Verifies one token inside `snapshot` and writes the reply into `out`. Returns the session
    /// id when its last-seen time is due to be written.
    @inline(__always)
    private func answerVerify(_ frame: Frame, in snapshot: ReadSnapshot, now: Timestamp, into out: inout ByteBuffer) throws -> SessionID? {
        let (tokenField, withUser) = try TokenRequest.verifyFields(in: frame.body)
        let session = try tokenField.withUnsafeReadableBytes { token in try snapshot.verify(token: token, now: now) }
        let profile = withUser ? try snapshot.user(id: session.userID) : nil
        out.writeFrame(opcode: frame.opcode, flags: .response, requestID: frame.requestID) { buffer in
            buffer.writeField(1, integer: session.userID)
            buffer.writeField(2) { b in
                b.writeMultipleIntegers(session.sessionID.high, session.sessionID.low)
            }
            buffer.writeField(3, integer: session.expiresAt)
            session.forEachRole { role in buffer.writeField(4, rawBytes: role) }
            if let profile { buffer.writeField(5) { UserInfo(profile).encode(into: &$0) } }
        }
        return session.touchDue ? session.sessionID : nil
    }
}

extension ByteBuffer {
    /// Writes a successful reply to `request`.
    @inline(__always)
    mutating func writeReply(_ request: Frame, _ body: (inout ByteBuffer) -> Void) {
        writeFrame(opcode: request.opcode, flags: .response, requestID: request.requestID, body)
    }
}

extension UserInfo {
    init(_ profile: UserProfile) {
        self.init(id: profile.id, username: profile.username, email: profile.email, displayName: profile.displayName,
                  createdAt: profile.createdAt, roles: profile.roles, state: profile.state.rawValue)
        phone = profile.phone
        imageURL = profile.imageURL
        accountType = profile.accountType.rawValue
        rootRole = profile.rootRole
        externalID = profile.externalID
        updatedAt = profile.updatedAt
        lastLoginAt = profile.lastLoginAt == 0 ? nil : profile.lastLoginAt
        failedLogins = profile.failedLogins
        settings = profile.settings
    }
}

extension ProfileChanges {
    init(_ fields: ProfileFields) throws {
        self.init()
        phone = fields.phone
        imageURL = fields.imageURL
        if let type = fields.accountType {
            guard let known = AccountType(rawValue: type) else { throw RequestFailure(status: .invalidArgument, message: "account_type must be 0 (user) or 1 (service)") }
            accountType = known
        }
        rootRole = fields.rootRole
        externalID = fields.externalID
        settings = fields.settings
    }
}

extension LoginResponse {
    init(_ result: LoginResult) {
        self.init(token: result.token, sessionID: result.sessionID.bytes, expiresAt: result.expiresAt, user: UserInfo(result.user),
                  refreshToken: result.refreshToken, refreshExpiresAt: result.refreshExpiresAt)
    }
}

extension UserLookup {
    init(_ request: GetUserRequest) {
        switch request {
        case .id(let id): self = .id(id)
        case .username(let name): self = .username(name)
        case .email(let email): self = .email(email)
        case .phone(let phone): self = .phone(phone)
        }
    }
}
