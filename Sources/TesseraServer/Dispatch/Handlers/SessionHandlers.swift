import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

/// The session operations: login, refresh, logout, listing and revocation. VERIFY, the hot
/// path, is answered in batches by ``RequestDispatcher/answerVerifies(_:into:)``.
struct SessionHandlers {
    let sessions: Sessions

    func register(in table: inout OperationTable) {
        let sessions = self.sessions
        table.batched(Operations.verify)
        table.slow(Operations.login) { request in
            if request.passwordIsSHA256Hex && !PasswordForm.isSHA256Hex(request.password) {
                request.password.withUnsafeMutableBytes { ConstantTime.zero($0) }
                throw RequestFailure(status: .invalidArgument, message: "password_sha256_hex: password must be 64 lower-case hex digits")
            }
            var attempt = LoginAttempt(
                identifier: request.identifier, password: SecretBytes(wiping: &request.password),
                clientIP: request.clientIP, userAgent: request.userAgent,
                lifetimeSeconds: request.lifetimeSeconds, idleTimeoutSeconds: request.idleTimeoutSeconds, withJWT: request.jwt,
                secondFactor: TwoFactorProof(code: request.code, recoveryCode: request.recoveryCode))
            attempt.passwordForm = request.passwordIsSHA256Hex ? .sha256Hex : .plain
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
        table.slow(Operations.listSessions) { request, user in
            let after = try request.afterSessionID.map { try SessionID(wire: $0) }
            let page = try sessions.list(of: user.lookup, after: after, limit: Int(request.limit))
            return SessionListResponse(sessions: page.sessions.map(SessionInfo.init), nextAfterSessionID: page.next?.bytes)
        }
        table.slow(Operations.revokeSession) { request, owner in
            try await sessions.revokeSession(try SessionID(wire: request.sessionID), ofUser: owner.userID)
            return EmptyMessage()
        }
        table.slow(Operations.revokeAllSessions) { request, user in
            let except = try request.exceptSessionID.map { try SessionID(wire: $0) }
            let ended = try await sessions.revokeAllSessions(user.lookup, except: except)
            return RevokeAllSessionsResponse(count: UInt32(clamping: ended.sessions), apiKeys: UInt32(clamping: ended.apiKeys))
        }
    }
}
