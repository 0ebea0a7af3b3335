import LMDBKit
import Logging
import SodiumKit
import TesseraModel

/// A second factor proven at login or to disable one: a TOTP code or a recovery code.
package enum TwoFactorProof: Sendable, Equatable {
    case code(String)
    case recoveryCode(String)
}

/// What an enrolment may choose; the rest (the issuer by default, 30-second steps) is the
/// server's.
package struct TwoFactorOptions: Sendable, Equatable {
    package var algorithm: HMAC.Algorithm = .sha1
    /// 6 or 8.
    package var digits = 6
    /// The issuer the authenticator app shows; the server's (``AuthConfiguration/totpIssuer``)
    /// when `nil`.
    package var issuer: String?
    /// The account name the app shows; the user's email, else its username, when `nil`.
    package var accountName: String?

    package init(algorithm: HMAC.Algorithm = .sha1, digits: Int = 6, issuer: String? = nil, accountName: String? = nil) {
        self.algorithm = algorithm
        self.digits = digits
        self.issuer = issuer
        self.accountName = accountName
    }
}

/// A new secret, shown once, for the user to add to an authenticator app.
package struct TwoFactorEnrolment: Sendable, Equatable {
    /// The secret in Base32, for typing in by hand.
    package var secret: String
    /// The `otpauth://totp/...` URI (shown as a QR code).
    package var uri: String
    package var algorithm: HMAC.Algorithm
    package var digits: Int
    package var periodSeconds: Int
}

/// A user's second factor as reported: never its secret.
package struct TwoFactorStatus: Sendable, Equatable {
    /// `nil`: none.
    package var state: TwoFactorState?
    package var algorithm: HMAC.Algorithm = .sha1
    package var digits = 6
    package var periodSeconds = 30
    package var createdAt: Timestamp = 0
    package var confirmedAt: Timestamp = 0
    package var recoveryCodesLeft = 0
}

/// Two-factor login with TOTP (RFC 6238) and recovery codes.
///
/// Enrolment issues a secret (sealed at rest under the ring's secret-sealing key) that takes
/// effect when the user confirms one code from it; confirming issues ten recovery codes, shown
/// once and kept only as digests (sealed too). From then on a login needs a code
/// (``Sessions/login(_:)`` asks ``check(_:for:at:)``): a code is accepted once, with one step of
/// drift either way, and the step of the last code accepted is written in the login's own
/// commit, so a replay is refused across a restart as well. A wrong code counts as a failed
/// login. Disabling needs the password and a current code (or a recovery code), or an
/// administrator.
package struct TwoFactor: Sendable {
    let store: TesseraStore
    let configuration: AuthConfiguration
    let passwords: PasswordCheck
    let clock: any Clock
    let logger: Logger

    static let periodSeconds: UInt8 = 30

    /// The second factor of a user, never its secret.
    package func status(_ lookup: UserLookup) throws -> TwoFactorStatus {
        try store.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            guard let record = try store.twoFactorRecord(ofUser: user.id, in: txn) else { return TwoFactorStatus() }
            return TwoFactorStatus(
                state: record.state, algorithm: record.algorithm, digits: Int(record.digits), periodSeconds: Int(record.period),
                createdAt: record.createdAt, confirmedAt: record.confirmedAt, recoveryCodesLeft: Int(record.recoveryCodesLeft))
        }
    }

    /// Issues a new secret for `lookup`, pending until
    /// ``confirm(_:code:reauthenticatedBy:)``. A pending one is
    /// replaced; an enrolled one is a `conflict` (disable it first).
    /// `proof`: the user's re-authentication (see ``write(_:reauthenticatedBy:_:)``); `nil` from
    /// an administrator.
    package func enrol(
        _ lookup: UserLookup, _ options: TwoFactorOptions = TwoFactorOptions(), reauthenticatedBy proof: Reauthentication? = nil
    ) async throws -> TwoFactorEnrolment {
        guard options.digits == 6 || options.digits == 8 else { throw AuthError.invalidArgument("a TOTP code has 6 or 8 digits") }
        if let issuer = options.issuer { try Self.checkLabel(issuer, "issuer") }
        if let account = options.accountName { try Self.checkLabel(account, "account_name") }
        let totp = TOTP.generate(algorithm: options.algorithm, digits: options.digits, period: Int64(Self.periodSeconds))
        let (store, now) = (self.store, clock.now())
        let user = try await write(lookup, reauthenticatedBy: proof) { user, txn in
            if let existing = try store.twoFactorRecord(ofUser: user.id, in: txn), existing.state == .enrolled {
                throw AuthError.conflict("two-factor login is already enrolled; disable it first")
            }
            let key = try store.keyRing(in: txn).activeSealing
            let record = TwoFactorRecord(
                state: .pending, algorithm: totp.algorithm, digits: UInt8(totp.digits), period: Self.periodSeconds, createdAt: now,
                keyID: key.id, sealed: TwoFactorSecrets(secret: totp.secret).sealed(for: user.id, with: key))
            try store.putTwoFactorRecord(record, ofUser: user.id, in: txn)
            return user
        }
        logger.info("two-factor enrolment started", metadata: ["user.id": "\(user.id)"])
        let account = options.accountName ?? user.email ?? user.username
        return TwoFactorEnrolment(
            secret: Base32.encode(totp.secret), uri: totp.uri(issuer: options.issuer ?? configuration.totpIssuer, account: account),
            algorithm: totp.algorithm, digits: totp.digits, periodSeconds: Int(Self.periodSeconds))
    }

    /// Completes a pending enrolment with one valid code from the new secret, and issues the
    /// recovery codes (returned once). A wrong code is `2fa-invalid`; no pending enrolment is
    /// `not-found`, an enrolled one `conflict`.
    /// `proof`: the user's re-authentication (see ``write(_:reauthenticatedBy:_:)``); `nil` from
    /// an administrator.
    package func confirm(_ lookup: UserLookup, code: String, reauthenticatedBy proof: Reauthentication? = nil) async throws -> [String] {
        let (store, now) = (self.store, clock.now())
        let codes = RecoveryCodes.generate()
        let userID = try await write(lookup, reauthenticatedBy: proof) { user, txn in
            guard var record = try store.twoFactorRecord(ofUser: user.id, in: txn) else { throw AuthError.notFound("two-factor enrolment") }
            guard record.state == .pending else { throw AuthError.conflict("two-factor login is already enrolled") }
            var secrets = try self.open(record, userID: user.id, in: txn)
            guard let step = Self.totp(record, secrets).acceptedStep(of: code, at: now, lastUsedStep: record.lastUsedStep) else {
                throw AuthError.twoFactorInvalid
            }
            secrets.recoveryDigests = codes.map(secrets.digest(ofRecoveryCode:))
            record.state = .enrolled
            record.confirmedAt = now
            record.lastUsedStep = step
            record.recoveryCodesLeft = UInt8(codes.count)
            record.sealed = secrets.sealed(for: user.id, with: try self.sealingKey(record, in: txn))
            try store.putTwoFactorRecord(record, ofUser: user.id, in: txn)
            return user.id
        }
        logger.notice("two-factor login enrolled", metadata: ["user.id": "\(userID)"])
        return codes
    }

    /// Removes a user's second factor. `proof` (with `password`): the self-service form, where
    /// the password is checked under the lockout and a current code or a recovery code is
    /// needed; `nil`: an administrator's reset. `not-found` when the user has none.
    package func disable(_ lookup: UserLookup, password: SecretBytes?, proof: TwoFactorProof?) async throws {
        let store = self.store
        let (user, record) = try store.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return (user, try store.twoFactorRecord(ofUser: user.id, in: txn))
        }
        if let password {
            guard let proof else { throw AuthError.invalidArgument("disabling two-factor login needs a current code or a recovery code") }
            let keys = ThrottleKeys.account(user.id)
            try await passwords.attempt(keys, password: password, against: user.passwordHash) { _, _ in
                if let record, record.state == .enrolled {
                    guard try self.proves(proof, record, userID: user.id) else {
                        try await passwords.recordFailure(keys)
                        throw AuthError.twoFactorInvalid
                    }
                }
                try await remove(user.id)
            }
        } else {
            try await remove(user.id)
        }
        logger.notice("two-factor login disabled", metadata: ["user.id": "\(user.id)", "by": "\(password == nil ? "administrator" : "user")"])
    }

    private func remove(_ userID: UInt64) async throws {
        let store = self.store
        try await store.write { txn in
            guard try store.deleteTwoFactorRecord(ofUser: userID, in: txn) else { throw AuthError.notFound("two-factor login") }
        }
    }

    /// Issues ten new recovery codes, voiding the old ones. `code`: the self-service form, a
    /// current TOTP code checked under the lockout; `nil`: an administrator.
    package func regenerateRecoveryCodes(_ lookup: UserLookup, code: String?) async throws -> [String] {
        let store = self.store
        let (user, record) = try store.read { txn in
            guard let user = try store.user(lookup, in: txn) else { throw AuthError.notFound("user") }
            return (user, try store.twoFactorRecord(ofUser: user.id, in: txn))
        }
        guard let record, record.state == .enrolled else { throw AuthError.notFound("two-factor login") }
        let codes = RecoveryCodes.generate()
        let now = clock.now()
        let replace: @Sendable () async throws -> Void = {
            try await store.write { txn in
                guard var current = try store.twoFactorRecord(ofUser: user.id, in: txn), current.state == .enrolled else {
                    throw AuthError.notFound("two-factor login")
                }
                var secrets = try self.open(current, userID: user.id, in: txn)
                if let code {
                    // The code was checked against the record read before: it must still be unused.
                    guard let step = Self.totp(current, secrets).acceptedStep(of: code, at: now, lastUsedStep: current.lastUsedStep) else {
                        throw AuthError.twoFactorInvalid
                    }
                    current.lastUsedStep = step
                }
                secrets.recoveryDigests = codes.map(secrets.digest(ofRecoveryCode:))
                current.recoveryCodesLeft = UInt8(codes.count)
                current.sealed = secrets.sealed(for: user.id, with: try self.sealingKey(current, in: txn))
                try store.putTwoFactorRecord(current, ofUser: user.id, in: txn)
            }
        }
        if let code {
            try await passwords.attempt(.account(user.id), code: { try self.proves(.code(code), record, userID: user.id) }, succeed: replace)
        } else {
            try await replace()
        }
        logger.notice("recovery codes regenerated", metadata: ["user.id": "\(user.id)"])
        return codes
    }

    // MARK: At login

    /// What a login proved with its second factor, to be written in the login's commit.
    enum Use: Sendable {
        /// The user has no enrolled second factor.
        case none
        /// A TOTP code of this step.
        case code(step: Int64)
        /// A recovery code.
        case recoveryCode(String)
    }

    /// Checks a login's second factor for `user` at `now`. Throws `2fa-required` when the user
    /// enrolled one and the login carried none, `2fa-invalid` when it is wrong or used (the
    /// caller counts the failure).
    func check(_ proof: TwoFactorProof?, for user: UserRecord, at now: Timestamp) throws -> Use {
        let store = self.store
        // Read and opened in one transaction: a sealing key retired since could not open a
        // record read before.
        let enrolled = try store.read { txn -> (TwoFactorRecord, TwoFactorSecrets)? in
            guard let record = try store.twoFactorRecord(ofUser: user.id, in: txn), record.state == .enrolled else { return nil }
            return (record, try open(record, userID: user.id, in: txn))
        }
        guard let (record, opened) = enrolled else { return .none }
        guard let proof else { throw AuthError.twoFactorRequired }
        var secrets = opened
        switch proof {
        case .code(let code):
            guard let step = Self.totp(record, secrets).acceptedStep(of: code, at: now, lastUsedStep: record.lastUsedStep) else {
                throw AuthError.twoFactorInvalid
            }
            return .code(step: step)
        case .recoveryCode(let code):
            guard secrets.useRecoveryCode(code) else { throw AuthError.twoFactorInvalid }
            return .recoveryCode(code)
        }
    }

    /// Writes what the login proved, inside the login's transaction: the code's step as the last
    /// used (refused if a concurrent login used it or a later one first), or the recovery code
    /// gone. Returns how many recovery codes are left when one was used.
    func record(_ use: Use, ofUser userID: UInt64, in txn: WriteTransaction) throws -> Int? {
        switch use {
        case .none:
            return nil
        case .code(let step):
            guard var record = try store.twoFactorRecord(ofUser: userID, in: txn), record.lastUsedStep < step else {
                throw AuthError.twoFactorInvalid
            }
            record.lastUsedStep = step
            try store.putTwoFactorRecord(record, ofUser: userID, in: txn)
            return nil
        case .recoveryCode(let code):
            // Used again on the record as it is now: a concurrent login may have used it first.
            guard var record = try store.twoFactorRecord(ofUser: userID, in: txn) else { throw AuthError.twoFactorInvalid }
            var secrets = try open(record, userID: userID, in: txn)
            guard secrets.useRecoveryCode(code) else { throw AuthError.twoFactorInvalid }
            record.recoveryCodesLeft = UInt8(secrets.recoveryDigests.count)
            record.sealed = secrets.sealed(for: userID, with: try sealingKey(record, in: txn))
            try store.putTwoFactorRecord(record, ofUser: userID, in: txn)
            return secrets.recoveryDigests.count
        }
    }

    // MARK: Helpers

    /// Whether `proof` is a valid, unused code or recovery code of `record` now.
    private func proves(_ proof: TwoFactorProof, _ record: TwoFactorRecord, userID: UInt64) throws -> Bool {
        var secrets = try open(record, userID: userID)
        switch proof {
        case .code(let code): return Self.totp(record, secrets).acceptedStep(of: code, at: clock.now(), lastUsedStep: record.lastUsedStep) != nil
        case .recoveryCode(let code): return secrets.useRecoveryCode(code)
        }
    }

    /// The key `record` is sealed with, as `txn` sees the ring (``TesseraStore/keyRing(in:)``).
    private func sealingKey(_ record: TwoFactorRecord, in txn: some ReadableTransaction) throws -> TokenKey {
        guard let key = try store.keyRing(in: txn).sealingKey(id: record.keyID) else {
            throw AuthError.internal("the key a second factor was sealed with (\(record.keyID)) is retired")
        }
        return key
    }

    /// Opens `record`, read in a transaction that has ended, with the ring as it is now.
    private func open(_ record: TwoFactorRecord, userID: UInt64) throws -> TwoFactorSecrets {
        let store = self.store
        return try store.read { txn in try open(record, userID: userID, in: txn) }
    }

    private func open(_ record: TwoFactorRecord, userID: UInt64, in txn: some ReadableTransaction) throws -> TwoFactorSecrets {
        guard let secrets = TwoFactorSecrets(opening: record.sealed, for: userID, with: try sealingKey(record, in: txn)) else {
            logger.error("a second factor does not open with its sealing key", metadata: ["user.id": "\(userID)"])
            throw AuthError.internal("the second factor of user \(userID) cannot be read")
        }
        return secrets
    }

    private static func totp(_ record: TwoFactorRecord, _ secrets: TwoFactorSecrets) -> TOTP {
        TOTP(secret: secrets.secret, algorithm: record.algorithm, digits: Int(record.digits), period: Int64(record.period))
    }

    private static func checkLabel(_ text: String, _ name: String) throws {
        guard !text.isEmpty, text.utf8.count <= 128, !text.contains(":") else {
            throw AuthError.invalidArgument("\(name) is 1–128 bytes without ':'")
        }
    }
}
