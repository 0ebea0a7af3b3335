import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

/// The account operations: sign-up, profiles, states, passwords, deletion, listing, validation,
/// imports and exports.
struct AccountHandlers {
    let accounts: Accounts
    let transfers: UserTransfer

    func register(in table: inout OperationTable) {
        let accounts = self.accounts
        let signupRoles = accounts.configuration.signupRoles
        table.slow(Operations.createUser) { request, origin in
            // A web process's sign-up cannot name roles (the declaration's application rule):
            // it gets the administrator's configured ones.
            let roles = origin == .application ? signupRoles : request.profile.roles
            var new = NewUser(
                username: request.username, password: SecretBytes(wiping: &request.password), email: request.profile.email,
                displayName: request.profile.displayName, roles: roles)
            new.profile = try ProfileChanges(request.profile, roles: nil, settings: request.profile.settings)
            new.unvalidated = request.unvalidated
            new.hidesAddresses = origin == .application
            let (user, code) = try await accounts.register(new)
            return UserResponse(user: UserInfo(user), validationCode: code?.code, validationExpiresAt: code?.expiresAt)
        }
        table.inline(Operations.getUser) { _, user in
            var profile = try accounts.user(user.lookup)
            // An API key reads its user with its own permissions as roles, as VERIFY reports them.
            if let key = user.apiKey { profile.roles = key.permissions }
            return UserResponse(user: UserInfo(profile))
        }
        table.slow(Operations.updateUser) { request, user in
            let changes = try ProfileChanges(
                request.changes, roles: request.roles, settings: request.settings, removingAttributes: request.removedAttributes)
            return UserResponse(user: UserInfo(try await accounts.updateProfile(user.lookup, changes)))
        }
        table.slow(Operations.setUserState) { request, user in
            let state = try AccountState(wire: request.state)
            return UserResponse(user: UserInfo(try await accounts.setState(user.lookup, to: state)))
        }
        table.slow(Operations.unlockUser) { _, user in
            try await accounts.unlock(user.lookup)
            return EmptyMessage()
        }
        table.slow(Operations.changePassword) { request in
            try await accounts.changePassword(
                token: request.token, current: SecretBytes(wiping: &request.currentPassword),
                new: SecretBytes(wiping: &request.newPassword))
            return EmptyMessage()
        }
        table.slow(Operations.setPassword) { request, user in
            let ended = try await accounts.setPassword(user.lookup, to: SecretBytes(wiping: &request.password))
            return SetPasswordResponse(sessions: UInt32(clamping: ended.sessions), apiKeys: UInt32(clamping: ended.apiKeys))
        }
        table.slow(Operations.deleteUser) { _, user in
            try await accounts.deleteUser(user.lookup)
            return EmptyMessage()
        }
        let transfers = self.transfers
        table.slow(Operations.importUsers) { request in
            let users = try request.users.map(ImportedUser.init)
            let outcome = try await transfers.importUsers(users, dryRun: request.dryRun, source: request.source, position: request.position)
            return ImportUsersResponse(
                created: UInt32(outcome.created), unchanged: UInt32(outcome.unchanged),
                rejected: outcome.rejected.map { ImportRejection(index: UInt32($0.index), reason: $0.reason) }, position: outcome.position,
                sessions: UInt32(outcome.sessions), apiKeys: UInt32(outcome.apiKeys))
        }
        table.slow(Operations.exportUsers) { request in
            let (users, next) = try transfers.exportUsers(
                after: request.afterID, limit: Int(request.limit), withTwoFactorSecrets: request.twoFactorSecrets)
            return ExportUsersResponse(users: users.map(ImportedUserMessage.init), nextAfterID: next)
        }
        table.slow(Operations.listUsers) { request in
            let users = try accounts.listUsers(after: request.afterID, limit: Int(request.limit))
            return UserListResponse(users: users.map(UserInfo.init), nextAfterID: users.count == Int(request.limit) ? users.last?.id : nil)
        }
        table.slow(Operations.validate) { UserResponse(user: UserInfo(try await accounts.validate(code: $0.code))) }
        table.slow(Operations.newValidationCode) { _, user in
            let (profile, code) = try await accounts.newValidationCode(for: user.lookup)
            let info = user.origin == .application ? UserInfo.addressee(profile) : UserInfo(profile)
            return UserResponse(user: info, validationCode: code.code, validationExpiresAt: code.expiresAt)
        }
    }
}
