@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

/// The key ring's operations: list, rotate, retire, the master key, the JWKS.
struct KeyHandlers {
    let keys: KeyManagement

    func register(in table: inout OperationTable) {
        let keys = self.keys
        table.inline(Operations.jwks) { _ in JWKSResponse(jwks: keys.jwks()) }
        // Slow: a held digest key's retirement is read from the API keys made under it.
        table.slow(Operations.listKeys) { _ in KeyListResponse(keys: try keys.list().map(KeyInfo.init)) }
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
    }
}
