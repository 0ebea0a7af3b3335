import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Where the APIs find a caller's credential.
enum Credentials {
    /// The token of `Authorization: Bearer TOKEN`.
    static func bearer(_ request: Request) -> String? {
        guard let value = value(request, .authorization) else { return nil }
        // "Bearer" in any case, a space, the token (compared by bytes: this runs on every request).
        let scheme = value.utf8.prefix(7)
        guard scheme.count == 7, scheme.last == UInt8(ascii: " "),
            scheme.prefix(6).elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 })
        else { return nil }
        return trimmed(value.utf8.dropFirst(7))
    }

    /// The value of the first cookie named `name` in the request's `Cookie` headers (RFC 6265
    /// §4.2: `name=value` pairs separated by `;` and a space), as Hummingbird's `cookies`
    /// reads it: the first pair whose name is exactly `name`, the value everything after its
    /// first `=`. Read from the header's bytes without splitting every pair into strings: it
    /// runs on every authenticated request.
    static func cookie(_ request: Request, _ name: String) -> String? {
        for field in request.headers where field.name == .cookie {
            var header = field.value
            let found = header.withUTF8 { bytes -> String? in
                var start = 0
                while start < bytes.count {
                    let end = bytes[start...].firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
                    var pair = bytes[start..<end]
                    while let first = pair.first, first == 0x20 || first == 0x09 { pair = pair.dropFirst() }
                    if let equals = pair.firstIndex(of: UInt8(ascii: "=")), pair[pair.startIndex..<equals].elementsEqual(name.utf8) {
                        return String(decoding: UnsafeBufferPointer(rebasing: pair[(equals + 1)...]), as: UTF8.self)
                    }
                    start = end + 1
                }
                return nil
            }
            if let found { return found }
        }
        return nil
    }

    /// A header's value, trimmed; `nil` when absent or empty.
    static func header(_ request: Request, _ name: HTTPField.Name) -> String? {
        value(request, name).flatMap { trimmed($0.utf8[...]) }
    }

    /// The value of header `name` as `HTTPFields` gives it: the field's own value when it is
    /// given once, else every value joined (`a, b`, which no credential matches). The single
    /// field is read without the join, which allocated on every authenticated request.
    static func value(_ request: Request, _ name: HTTPField.Name) -> String? {
        var found: String?
        for field in request.headers where field.name == name {
            guard found == nil else { return request.headers[name] }
            found = field.value
        }
        return found
    }

    /// The text without the spaces and tabs around it (HTTP's optional whitespace); `nil` when
    /// nothing is left. The gateway's one rule for trimming what a header carries (a token, a
    /// media type, a proxy hop). By bytes: Foundation's `trimmingCharacters` cost a twentieth of
    /// an authenticated request.
    static func trimmed(_ bytes: Substring.UTF8View) -> String? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return nil }
        return String(Substring(bytes[first...last]))
    }

    /// A login identifier as given: a username, an email (`@`) or a phone (`+`).
    static func isUsable(_ identifier: String?) -> Bool {
        guard let identifier else { return false }
        return !identifier.trimmingCharacters(in: .whitespaces).isEmpty
    }
}

extension HTTPField.Name {
    /// `/v1/auth`'s API key.
    static let apiKey = HTTPField.Name("x-api-key")!
    /// Rocket.Chat's session token.
    static let authToken = HTTPField.Name("x-auth-token")!
    /// Rocket.Chat's user id, which must name the token's user.
    static let userID = HTTPField.Name("x-user-id")!
}
