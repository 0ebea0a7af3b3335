import Logging
import NIOCore
import SodiumKit
@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

extension AuthError {
    /// The wire status for this error.
    var status: Status {
        switch self {
        case .badCredentials: .badCredentials
        case .accountNotValidated: .accountNotValidated
        case .inactiveAccount: .inactiveAccount
        case .locked: .locked
        case .twoFactorRequired: .twoFactorRequired
        case .twoFactorInvalid: .twoFactorInvalid
        case .tokenExpired: .tokenExpired
        case .tokenInvalid: .tokenInvalid
        case .tokenRevoked: .tokenRevoked
        case .refreshReused: .refreshReused
        case .notFound: .notFound
        case .conflict, .addressTaken: .conflict
        case .alreadyRegistered: .alreadyRegistered
        case .invalidArgument: .invalidArgument
        case .busy: .busy
        case .storageFull: .storageFull
        case .internal: .internal
        }
    }
}

extension Status {
    /// How loudly a failed request is logged: a client's mistake (a wrong password, an expired
    /// token, a malformed body) at debug, so a flood of them cannot flood the log; a refused
    /// operation at notice; the server's own trouble at warning or error.
    var logLevel: Logger.Level {
        switch self {
        case .internal: .error
        case .storageFull: .warning
        case .forbidden: .notice
        default: .debug
        }
    }
}

/// A failed request, ready to be written as an error frame.
struct RequestFailure: Error {
    var status: Status
    var message: String
    var retryAfterSeconds: UInt32?
    /// What an application peer is told instead of ``message``, when that says more than a web
    /// process should know (which of a profile's addresses another account holds).
    var applicationMessage: String?

    init(status: Status, message: String, retryAfterSeconds: UInt32? = nil) {
        self.status = status
        self.message = message
        self.retryAfterSeconds = retryAfterSeconds
    }

    init(_ error: any Error) {
        switch error {
        case let failure as RequestFailure: self = failure
        case let auth as AuthError:
            // Internal details stay in the log; the client gets a generic message.
            let message = if case .internal = auth { "internal error; see the daemon log for the trace id" } else { auth.description }
            let retryAfter: UInt32? =
                switch auth {
                case .busy: 1
                case .locked(let seconds): seconds
                default: nil
                }
            self.init(status: auth.status, message: message, retryAfterSeconds: retryAfter)
            if case .addressTaken = auth { applicationMessage = "the email or phone is already registered" }
        case let refusal as Refusal: self.init(status: refusal.status, message: refusal.message)
        case let proto as ProtocolError: self.init(status: proto.status, message: proto.description)
        default: self.init(status: .internal, message: "internal error; see the daemon log for the trace id")
        }
    }
}

/// Trace ids: 16 hex digits, random, quoted in the error reply and in the daemon's log line.
enum TraceID {
    static func make() -> String {
        let bytes = SecureRandom.bytes(8)
        return bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

extension ByteBuffer {
    /// Writes an error reply frame.
    mutating func writeErrorFrame(opcode: UInt8, requestID: UInt32, failure: RequestFailure, traceID: String, closing: Bool = false) {
        var flags: FrameFlags = .response
        if closing || failure.status.closesConnection { flags.insert(.closing) }
        let body = ErrorBody(
            name: failure.status.name, message: failure.message, traceID: traceID,
            retryAfterSeconds: failure.retryAfterSeconds)
        do {
            try writeFrame(opcode: opcode, flags: flags, status: failure.status.rawValue, requestID: requestID) { try body.encode(into: &$0) }
        } catch {
            // A message too long for a field: the status and its name still go out.
            let short = ErrorBody(name: failure.status.name, message: "see the daemon log", traceID: traceID)
            try? writeFrame(opcode: opcode, flags: flags, status: failure.status.rawValue, requestID: requestID) { try short.encode(into: &$0) }
        }
    }
}
