import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Where the APIs find a caller's credential.
enum Credentials {
    /// The token of `Authorization: Bearer TOKEN`.
    static func bearer(_ request: Request) -> String? {
        guard let value = request.headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// A header's value, trimmed; `nil` when absent or empty.
    static func header(_ request: Request, _ name: String) -> String? {
        guard let field = HTTPField.Name(name), let value = request.headers[field]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            return nil
        }
        return value
    }

    /// A login identifier as given: a username, an email (`@`) or a phone (`+`).
    static func isUsable(_ identifier: String?) -> Bool {
        guard let identifier else { return false }
        return !identifier.trimmingCharacters(in: .whitespaces).isEmpty
    }
}
