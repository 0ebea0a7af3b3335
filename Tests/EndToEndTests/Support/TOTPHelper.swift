import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

/// Enrols a user's second factor through the daemon and computes its codes with pyotp (an
/// independent implementation), for the gateway's tests of two-factor logins.
struct TOTPHelper {
    let uri: String
    let python: String

    /// Enrols the user of `token` and confirms with the current step's code; log in with the
    /// next step's (`code(offset: 30)`), which the daemon accepts whether or not a step boundary
    /// passed meanwhile.
    static func enrol(socket: String, token: String) throws -> TOTPHelper {
        let python = try IndependentPython.interpreter()
        let uri = try blocking {
            let client = TesseraClient(socketPath: socket)
            defer { Task { await client.close() } }
            let enrolment = try await client.enrolTwoFactor(of: .sessionToken(token))
            let helper = TOTPHelper(uri: enrolment.uri, python: python)
            _ = try await client.confirmTwoFactor(of: .sessionToken(token), code: try helper.code())
            return enrolment.uri
        }
        return TOTPHelper(uri: uri, python: python)
    }

    /// pyotp's code for now + `offset` seconds.
    func code(offset: Int = 0) throws -> String {
        let time = Int(Date().timeIntervalSince1970) + offset
        let result = try runCommand(python, [IndependentPython.script("totp_codes.py"), uri, String(time)])
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>!
        Task {
            do { result = .success(try await body()) } catch { result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try result.get()
    }
}
