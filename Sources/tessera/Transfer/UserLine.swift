import Foundation
import TesseraClient
import TesseraModel

/// The JSON-lines format of `tessera import users` and `tessera export users`: one user a line,
/// documented in `docs/IMPORT.md`. Reading is strict (an unknown field or a value of the wrong
/// type refuses the record with its reason); writing gives every field Tessera holds.
enum UserLine {
    /// The fields a line may have.
    static let fields: Set<String> = [
        "username", "email", "phone", "name", "image_url", "roles", "settings", "attributes", "account_type", "root_role", "external_id", "state",
        "created_at", "password_hash", "totp", "sessions", "api_keys",
    ]

    /// The user on `line`, or why it is refused.
    static func parse(_ line: Data) throws(RecordError) -> ImportedUser {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            throw RecordError("not a JSON object (malformed or truncated: \(error))")
        }
        guard let object = value.object else { throw RecordError("not a JSON object") }
        if let unknown = object.keys.filter({ !fields.contains($0) }).sorted().first {
            throw RecordError("unknown field \"\(unknown)\"")
        }
        var user = ImportedUser(username: try string(object, "username") ?? "")
        guard !user.username.isEmpty else { throw RecordError("username is missing") }
        user.email = try string(object, "email")
        user.phone = try string(object, "phone")
        user.displayName = try string(object, "name")
        user.imageURL = try string(object, "image_url")
        user.rootRole = try string(object, "root_role")
        user.externalID = try externalID(object["external_id"])
        user.passwordHash = try string(object, "password_hash")
        if let roles = present(object["roles"]) {
            guard let list = roles.array?.compactMap(\.string), list.count == roles.array?.count else {
                throw RecordError("roles must be a list of strings")
            }
            user.roles = list
        }
        if let settings = present(object["settings"]) {
            guard let map = settings.object?.compactMapValues(\.string), map.count == settings.object?.count else {
                throw RecordError("settings must be an object of strings")
            }
            user.settings = map
        }
        if let attributes = present(object["attributes"]) { user.attributes = try AttributeText.parse(attributes) }
        if let type = try string(object, "account_type") {
            guard let known = AccountType.allCases.first(where: { $0.description == type }) else {
                throw RecordError("account_type must be \"user\" or \"service\", not \"\(type)\"")
            }
            user.accountType = known
        }
        if let state = try string(object, "state") {
            guard let known = AccountState.allCases.first(where: { $0.description == state }) else {
                throw RecordError("state must be \"active\", \"unvalidated\" or \"disabled\", not \"\(state)\"")
            }
            user.state = known
        }
        user.createdAt = try date(object["created_at"])
        if let totp = present(object["totp"]) {
            guard let totp = totp.object else { throw RecordError("totp must be an object") }
            if let unknown = totp.keys.filter({ !["secret", "algorithm", "digits", "recovery_code_sha256"].contains($0) }).sorted().first {
                throw RecordError("unknown field \"totp.\(unknown)\"")
            }
            guard let text = try string(totp, "secret", in: "totp.") else { throw RecordError("totp.secret is missing") }
            guard let secret = Base32.decode(text), !secret.isEmpty else { throw RecordError("totp.secret is not base32") }
            user.totpSecret = secret
            if let name = try string(totp, "algorithm", in: "totp.") {
                guard let algorithm = TOTPAlgorithm.allCases.first(where: { $0.description.caseInsensitiveCompare(name) == .orderedSame })
                else { throw RecordError("totp.algorithm must be SHA1, SHA256 or SHA512, not \"\(name)\"") }
                user.totpAlgorithm = algorithm
            }
            if let digits = totp["digits"] {
                guard let count = digits.integer, (6...8).contains(count) else { throw RecordError("totp.digits must be 6, 7 or 8") }
                user.totpDigits = Int(count)
            }
            if let codes = present(totp["recovery_code_sha256"]) {
                guard let list = codes.array else { throw RecordError("totp.recovery_code_sha256 must be a list of strings") }
                user.recoveryCodeSHA256 = try list.map { hex throws(RecordError) in try sha256(hex, "totp.recovery_code_sha256") }
            }
        }
        user.sessions = try tokens(object, "sessions", ["token_sha256", "created_at", "expires_at"]).map { token throws(RecordError) in
            guard let expires = try date(token["expires_at"], field: "sessions[].expires_at") else {
                throw RecordError("sessions[].expires_at is missing")
            }
            return ImportedSession(
                tokenSHA256: try sha256(token["token_sha256"], "sessions[].token_sha256"),
                createdAt: try date(token["created_at"], field: "sessions[].created_at") ?? user.createdAt ?? Date(), expiresAt: expires)
        }
        user.apiKeys = try tokens(object, "api_keys", ["token_sha256", "name", "created_at", "expires_at"]).map { key throws(RecordError) in
            guard let name = try string(key, "name", in: "api_keys[].") else { throw RecordError("api_keys[].name is missing") }
            return ImportedAPIKey(
                tokenSHA256: try sha256(key["token_sha256"], "api_keys[].token_sha256"), name: name,
                createdAt: try date(key["created_at"], field: "api_keys[].created_at") ?? user.createdAt ?? Date(),
                expiresAt: try date(key["expires_at"], field: "api_keys[].expires_at"))
        }
        return user
    }

    /// The username on a line that is a JSON object naming one, for reports.
    static func label(_ line: Data) -> String {
        (try? JSONValue.parse(line))?.object?["username"]?.string ?? "-"
    }

    /// The value, unless it is absent or `null`.
    private static func present(_ value: JSONValue?) -> JSONValue? {
        guard let value, !value.isNull else { return nil }
        return value
    }

    /// The list of objects under `key`, each with only the fields `allowed`.
    private static func tokens(_ object: [String: JSONValue], _ key: String, _ allowed: Set<String>) throws(RecordError) -> [[String: JSONValue]] {
        guard let value = present(object[key]) else { return [] }
        guard let list = value.array?.compactMap(\.object), list.count == value.array?.count else {
            throw RecordError("\(key) must be a list of objects")
        }
        for item in list {
            if let unknown = item.keys.filter({ !allowed.contains($0) }).sorted().first { throw RecordError("unknown field \"\(key)[].\(unknown)\"") }
        }
        return list
    }

    /// A SHA-256 written as 64 hexadecimal digits.
    private static func sha256(_ value: JSONValue?, _ field: String) throws(RecordError) -> [UInt8] {
        guard let text = value?.string, text.utf8.count == 64, let bytes = Hex.parse(text) else {
            throw RecordError("\(field) must be a SHA-256 in 64 hexadecimal digits")
        }
        return bytes
    }

    /// `user` as one line (no newline), keys sorted.
    static func format(_ user: ImportedUser) -> Data {
        var object: [String: Any] = ["username": user.username, "state": user.state.description]
        if let email = user.email { object["email"] = email }
        if let phone = user.phone { object["phone"] = phone }
        if let name = user.displayName { object["name"] = name }
        if let url = user.imageURL { object["image_url"] = url }
        if !user.roles.isEmpty { object["roles"] = user.roles }
        if !user.settings.isEmpty { object["settings"] = user.settings }
        if !user.attributes.isEmpty { object["attributes"] = AttributeText.json(user.attributes) }
        if let type = user.accountType, type != .user { object["account_type"] = type.description }
        if let role = user.rootRole { object["root_role"] = role }
        if let id = user.externalID { object["external_id"] = id }
        if let created = user.createdAt { object["created_at"] = Output.iso8601Milliseconds(created) }
        if let hash = user.passwordHash { object["password_hash"] = hash }
        if let secret = user.totpSecret {
            object["totp"] = ["secret": Base32.encode(secret), "algorithm": user.totpAlgorithm.description, "digits": user.totpDigits]
        }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    private static func string(_ object: [String: JSONValue], _ key: String, in prefix: String = "") throws(RecordError) -> String? {
        guard let value = present(object[key]) else { return nil }
        guard let text = value.string else { throw RecordError("\(prefix)\(key) must be a string") }
        return text
    }

    /// A string, or a whole number (another system's integer id) written as one.
    private static func externalID(_ value: JSONValue?) throws(RecordError) -> String? {
        guard let value = present(value) else { return nil }
        if let text = value.string { return text }
        if let number = value.integer { return String(number) }
        throw RecordError("external_id must be a string or a whole number")
    }

    /// RFC 3339 (`2024-05-01T12:00:00Z`, fractional seconds allowed) or Unix milliseconds.
    static func date(_ value: JSONValue?, field: String = "created_at") throws(RecordError) -> Date? {
        guard let value = present(value) else { return nil }
        if let milliseconds = value.integer { return Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
        if let text = value.string {
            for formatter in [plainDates, fractionalDates] {
                if let date = formatter.withLock({ $0.date(from: text) }) { return date }
            }
            throw RecordError("\(field) \"\(text)\" is not an RFC 3339 time (2024-05-01T12:00:00Z)")
        }
        throw RecordError("\(field) must be an RFC 3339 string or Unix milliseconds")
    }

    private static let plainDates = LockedFormatter([.withInternetDateTime])
    private static let fractionalDates = LockedFormatter([.withInternetDateTime, .withFractionalSeconds])
}

/// Why a record is refused.
struct RecordError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An ISO 8601 formatter (not thread-safe) behind a lock.
final class LockedFormatter: @unchecked Sendable {
    private let formatter = ISO8601DateFormatter()
    private let lock = NSLock()

    init(_ options: ISO8601DateFormatter.Options) { formatter.formatOptions = options }

    func withLock<T>(_ body: (ISO8601DateFormatter) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(formatter)
    }
}
