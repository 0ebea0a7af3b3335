@_spi(TesseraInternal) import TesseraCore
import TesseraModel
import TesseraProtocol

/// API keys: an application makes, lists and revokes the keys of the user of a session token;
/// anyone it serves may present one.
struct APIKeyHandlers {
    let apiKeys: APIKeys

    func register(in table: inout OperationTable) {
        let apiKeys = self.apiKeys
        table.slow(Operations.createAPIKey) { request, user in
            let new = NewAPIKey(name: request.name, lifetimeSeconds: request.lifetimeSeconds, permissions: request.permissions)
            let proof = Reauthentication(password: request.password, code: request.code, recoveryCode: request.recoveryCode)
            let (key, info) = try await apiKeys.create(user.lookup, new, reauthenticatedBy: proof)
            return CreateAPIKeyResponse(key: key, apiKey: APIKeyInfo(info))
        }
        table.slow(Operations.listAPIKeys) { _, user in
            let keys = try apiKeys.list(user.lookup, seenBy: user.apiKey?.id)
            return APIKeyListResponse(apiKeys: keys.map(APIKeyInfo.init))
        }
        table.slow(Operations.revokeAPIKey) { request, owner in
            try await apiKeys.revoke(try APIKeyID(wire: request.keyID), ofUser: owner.userID)
            return EmptyMessage()
        }
        table.slow(Operations.revokeAllAPIKeys) { _, user in CountResponse(count: UInt32(clamping: try await apiKeys.revokeAll(user.lookup))) }
        table.inline(Operations.verifyAPIKey) { request in
            let key = try apiKeys.verify(key: request.key)
            return VerifyAPIKeyResponse(
                userID: key.userID, keyID: key.sessionID.bytes, name: key.apiKeyName ?? "", permissions: key.roles,
                expiresAt: key.expiresAt == 0 ? nil : key.expiresAt)
        }
    }
}
