/// Status codes: zero is success, every other value is an error with a stable name.
///
/// Codes are never renumbered; new ones are appended. A client meeting an unknown code treats
/// it as a failure of the request and reads the error's name and message from the body.
public enum Status: UInt16, Sendable, CaseIterable, Error {
    case ok = 0
    case badCredentials = 1
    case accountNotValidated = 2
    case inactiveAccount = 3
    case locked = 4
    case tokenExpired = 5
    case tokenInvalid = 6
    case tokenRevoked = 7
    case refreshReused = 8
    case notFound = 9
    case conflict = 10
    case invalidArgument = 11
    case busy = 12
    case `internal` = 13
    case storageFull = 14
    case unknownOpcode = 15
    case frameTooLarge = 16
    case malformedFrame = 17
    case unsupportedVersion = 18
    case forbidden = 19
    case twoFactorRequired = 20
    case twoFactorInvalid = 21
    case alreadyRegistered = 22

    /// The stable, lower-case name used in logs, the CLI and JSON output.
    public var name: String {
        switch self {
        case .ok: "ok"
        case .badCredentials: "bad-credentials"
        case .accountNotValidated: "account-not-validated"
        case .inactiveAccount: "inactive-account"
        case .locked: "locked"
        case .tokenExpired: "token-expired"
        case .tokenInvalid: "token-invalid"
        case .tokenRevoked: "token-revoked"
        case .refreshReused: "refresh-reused"
        case .notFound: "not-found"
        case .conflict: "conflict"
        case .invalidArgument: "invalid-argument"
        case .busy: "busy"
        case .internal: "internal"
        case .storageFull: "storage-full"
        case .unknownOpcode: "unknown-opcode"
        case .frameTooLarge: "frame-too-large"
        case .malformedFrame: "malformed-frame"
        case .unsupportedVersion: "unsupported-version"
        case .forbidden: "forbidden"
        case .twoFactorRequired: "2fa-required"
        case .twoFactorInvalid: "2fa-invalid"
        case .alreadyRegistered: "already-registered"
        }
    }

    /// `true` for errors after which the server closes the connection.
    public var closesConnection: Bool {
        self == .frameTooLarge || self == .malformedFrame
    }
}
