import Foundation
internal import TesseraProtocol

/// Where a user's second factor stands.
public enum TwoFactorState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// No second factor: the password alone logs in.
    case none = 0
    /// A secret was issued and waits for a code to confirm it.
    case pending = 1
    /// LOGIN asks for a code.
    case enrolled = 2

    public var description: String {
        switch self {
        case .none: "none"
        case .pending: "pending"
        case .enrolled: "enrolled"
        }
    }
}

/// The HMAC of a TOTP code (RFC 6238).
public enum TOTPAlgorithm: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case sha1 = 1
    case sha256 = 2
    case sha512 = 3

    /// `SHA1`, `SHA256` or `SHA512`, as otpauth URIs spell them.
    public var description: String {
        switch self {
        case .sha1: "SHA1"
        case .sha256: "SHA256"
        case .sha512: "SHA512"
        }
    }
}

/// A user's second factor, never its secret.
public struct TwoFactorStatus: Sendable, Equatable {
    public var state: TwoFactorState
    public var algorithm: TOTPAlgorithm?
    public var digits: Int?
    public var periodSeconds: Int?
    public var createdAt: Date?
    public var confirmedAt: Date?
    public var recoveryCodesLeft: Int?

    init(_ reply: TwoFactorStatusResponse) throws(TesseraClientError) {
        guard let state = TwoFactorState(rawValue: reply.state) else { throw .malformedReply("two-factor state \(reply.state)") }
        self.state = state
        algorithm = reply.algorithm.flatMap(TOTPAlgorithm.init(rawValue:))
        digits = reply.digits.map(Int.init)
        periodSeconds = reply.periodSeconds.map(Int.init)
        createdAt = reply.createdAt.map(Date.init(milliseconds:))
        confirmedAt = reply.confirmedAt.map(Date.init(milliseconds:))
        recoveryCodesLeft = reply.recoveryCodesLeft.map(Int.init)
    }
}

/// A new TOTP secret, shown once: show ``uri`` as a QR code (and ``secret`` for typing in).
public struct TwoFactorEnrolment: Sendable, Equatable {
    /// Base32, no padding.
    public var secret: String
    /// The `otpauth://totp/...` URI an authenticator app reads.
    public var uri: String
    public var algorithm: TOTPAlgorithm
    public var digits: Int
    public var periodSeconds: Int

    init(_ reply: EnrolTwoFactorResponse) throws(TesseraClientError) {
        guard let algorithm = TOTPAlgorithm(rawValue: reply.algorithm) else { throw .malformedReply("TOTP algorithm \(reply.algorithm)") }
        secret = reply.secret
        uri = reply.uri
        self.algorithm = algorithm
        digits = Int(reply.digits)
        periodSeconds = Int(reply.periodSeconds)
    }
}

/// What a user proves, in the request itself, to add a credential from a web process (an API
/// key, a second factor): the current password, and a current code or a recovery code when a
/// second factor is enrolled. It is checked under the lock like a login: a lock is `locked`, a
/// wrong password `bad-credentials`, a missing code `2fa-required`, a wrong one `2fa-invalid`.
/// An administrator's request may go without it.
public struct Reauthentication: Sendable {
    public var password: [UInt8]
    /// A current TOTP code of the enrolled second factor.
    public var code: String?
    /// One of the recovery codes instead of a code (spent by the request).
    public var recoveryCode: String?

    public init(password: [UInt8], code: String? = nil, recoveryCode: String? = nil) {
        self.password = password
        self.code = code
        self.recoveryCode = recoveryCode
    }
}
