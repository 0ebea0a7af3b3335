import LMDBKit
import SodiumKit

/// What a self-service request that adds a credential (an API key, a second factor) carries to
/// show that its caller is the user and not merely the holder of a session token: the current
/// password, and a code or a recovery code when a second factor is enrolled.
package struct Reauthentication: Sendable {
    package var password: SecretBytes
    package var secondFactor: TwoFactorProof?

    package init(password: SecretBytes, secondFactor: TwoFactorProof? = nil) {
        self.password = password
        self.secondFactor = secondFactor
    }
}

extension TwoFactor {
    /// Runs `body` in one write transaction with the user `lookup` names, after checking
    /// `proof` the way a login checks its credentials. `nil` (an administrator): `body` alone.
    ///
    /// With a proof, under the account's throttle entry (the lock a signed-in user's password
    /// checks share): a lock answers `locked` before anything is evaluated; a wrong password
    /// counts a failure and answers `bad-credentials`; then, when a second factor is enrolled,
    /// none answers `2fa-required` and a wrong or used one counts a failure and answers
    /// `2fa-invalid`. `body` commits with the code's step marked used (or the recovery code
    /// gone) and the account's failures cleared, so a code proves one request only, across a
    /// crash too. A password changed while this one was checked answers `bad-credentials`.
    func write<T: Sendable>(
        _ lookup: UserLookup, reauthenticatedBy proof: Reauthentication?,
        _ body: @escaping @Sendable (UserRecord, WriteTransaction) throws -> T
    ) async throws -> T {
        let store = self.store
        guard let proof else {
            return try await store.write { txn in
                guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
                return try body(user, txn)
            }
        }
        let user = try store.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return user
        }
        return try await passwords.attempt(.account(user.id), password: proof.password, against: user.passwordHash) { _, turn in
            let secondFactor: Use
            do {
                secondFactor = try check(proof.secondFactor, for: user, at: clock.now())
            } catch AuthError.twoFactorInvalid {
                try await passwords.recordFailure(turn.keys)
                throw AuthError.twoFactorInvalid
            }
            return try await store.write { txn in
                guard let current = try store.user(id: user.id, in: txn) else { throw AuthError.notFound("user") }
                guard current.passwordHash == user.passwordHash else { throw AuthError.badCredentials }
                _ = try record(secondFactor, ofUser: user.id, in: txn)
                try turn.clearFailures(in: txn, of: store)
                return try body(current, txn)
            }
        }
    }
}
