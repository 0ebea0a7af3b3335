import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

/// Two-factor login: status, enrolment, confirmation, disabling, recovery codes. What an
/// application must prove (the password, a code) is in the operations' declarations; an
/// administrator proves nothing (a reset, for a user who lost the authenticator).
struct TwoFactorHandlers {
    let twoFactor: TwoFactor

    func register(in table: inout OperationTable) {
        let twoFactor = self.twoFactor
        table.inline(Operations.twoFactorStatus) { _, user in TwoFactorStatusResponse(try twoFactor.status(user.lookup)) }
        table.slow(Operations.enrolTwoFactor) { request, user in
            let options = TwoFactorOptions(
                algorithm: HMAC.Algorithm(wireValue: request.algorithm) ?? .sha1, digits: Int(request.digits), issuer: request.issuer,
                accountName: request.accountName)
            let proof = Reauthentication(password: request.password, code: request.code, recoveryCode: request.recoveryCode)
            return EnrolTwoFactorResponse(try await twoFactor.enrol(user.lookup, options, reauthenticatedBy: proof))
        }
        table.slow(Operations.confirmTwoFactor) { request, user in
            let proof = Reauthentication(password: request.password, code: nil)
            return RecoveryCodesResponse(recoveryCodes: try await twoFactor.confirm(user.lookup, code: request.code, reauthenticatedBy: proof))
        }
        table.slow(Operations.disableTwoFactor) { request, user in
            // Without a password only from an administrator (the declaration's rule): a reset.
            guard var password = request.password else {
                try await twoFactor.disable(user.lookup, password: nil, proof: nil)
                return EmptyMessage()
            }
            let proof = TwoFactorProof(code: request.code, recoveryCode: request.recoveryCode)
            try await twoFactor.disable(user.lookup, password: SecretBytes(wiping: &password), proof: proof)
            return EmptyMessage()
        }
        table.slow(Operations.regenerateRecoveryCodes) { request, user in
            RecoveryCodesResponse(recoveryCodes: try await twoFactor.regenerateRecoveryCodes(user.lookup, code: request.code))
        }
    }
}
