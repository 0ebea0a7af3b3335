import Foundation
import Logging
import TesseraClient

/// Why a call to tesserad did not succeed, as every API's error mapping needs it.
enum TesseraFailure: Sendable {
    /// The daemon answered with an error (its stable code, e.g. `bad-credentials`, and its trace id).
    case refused(TesseraError)
    /// The daemon could not be reached, or the connection closed mid-request: the API answers
    /// 502/503 in its own shape, and the next request reconnects.
    case unavailable(String)
    /// A reply the gateway could not read.
    case broken(String)

    init(_ error: any Error) {
        switch error {
        case TesseraClientError.server(let server): self = .refused(server)
        case TesseraClientError.connectionClosed, TesseraClientError.cannotConnect: self = .unavailable("\(error)")
        default: self = .broken("\(error)")
        }
    }

    /// The daemon's code, when it answered.
    var code: TesseraError.Code? {
        if case .refused(let server) = self { return server.code }
        return nil
    }

    /// The daemon's trace id, when it answered with one.
    var traceID: String? {
        if case .refused(let server) = self { return server.traceID }
        return nil
    }

    /// The daemon's message, or what went wrong reaching it.
    var message: String {
        switch self {
        case .refused(let server): server.message
        case .unavailable(let why), .broken(let why): why
        }
    }

    /// Whether the daemon refused the credentials themselves (any reason a login or a token
    /// fails), as opposed to a malformed request or trouble on the daemon's side.
    var isAuthentication: Bool {
        guard let code else { return false }
        // An unknown user (a token's user deleted meanwhile) is refused as a credential too.
        return code.refusesCredentials || code == .notFound
    }

    /// One line in the gateway's log with the daemon's answer and trace id (never a credential).
    func log(_ logger: Logger) {
        switch self {
        case .refused(let server):
            logger.info("tessera refused", metadata: ["tessera.error": "\(server.name)", "tessera.trace_id": "\(server.traceID ?? "-")"])
        case .unavailable(let why): logger.warning("tessera unavailable", metadata: ["error": "\(why)"])
        case .broken(let why): logger.error("tessera reply unreadable", metadata: ["error": "\(why)"])
        }
    }
}
