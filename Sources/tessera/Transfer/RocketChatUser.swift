import Foundation
import TesseraClient

/// A document of Rocket.Chat's `users` collection, as `mongoexport --collection users` writes it
/// (MongoDB Extended JSON, relaxed or canonical), made into a Tessera user:
///
/// | Rocket.Chat | Tessera |
/// |---|---|
/// | `_id` | `external_id` (what clients send as `X-User-Id`) |
/// | `username`, `name`, `roles`, `createdAt` | username, display name, roles, created_at |
/// | `emails[0].address` | email |
/// | `active: false` | state disabled |
/// | `type: "bot"` or `"app"` | a service account |
/// | `services.password.bcrypt` / `.argon2` (of the password's SHA-256 hex) | `sha256-hex:` + the hash |
/// | `services.totp` when `enabled` | the TOTP secret (SHA-1, 6 digits, 30 s) |
///
/// Login tokens (`services.resume.loginTokens`), personal access tokens and TOTP backup codes
/// are counted, not carried over, by this version.
enum RocketChatUser {
    /// What a document held that is not imported.
    struct Left {
        var loginTokens = 0
        var personalAccessTokens = 0
        var backupCodes = 0
    }

    /// The user of `document`, and what it held that is not imported.
    static func user(_ document: [String: Any]) throws(RecordError) -> (ImportedUser, Left) {
        guard let id = document["_id"] as? String, !id.isEmpty else { throw RecordError("_id is missing or not a string") }
        guard let username = document["username"] as? String, !username.isEmpty else {
            throw RecordError("username is missing (a user who never chose one cannot log in by name)")
        }
        var user = ImportedUser(username: username, externalID: id)
        user.displayName = (document["name"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        if let emails = document["emails"] as? [[String: Any]], let address = emails.first?["address"] as? String {
            user.email = address
        }
        if let roles = document["roles"] {
            guard let list = roles as? [String] else { throw RecordError("roles must be a list of strings") }
            user.roles = list
        }
        if let active = document["active"] as? Bool, !active { user.state = .disabled }
        if let type = document["type"] as? String, type == "bot" || type == "app" { user.accountType = .service }
        user.createdAt = try date(document["createdAt"])
        let services = document["services"] as? [String: Any] ?? [:]
        if let password = services["password"] as? [String: Any] {
            if let hash = password["bcrypt"] as? String {
                user.passwordHash = "sha256-hex:" + hash
            } else if let hash = password["argon2"] as? String {
                user.passwordHash = "sha256-hex:" + hash
            }
        }
        var left = Left()
        if let totp = services["totp"] as? [String: Any], totp["enabled"] as? Bool == true {
            guard let text = totp["secret"] as? String, let secret = Base32.decode(text), !secret.isEmpty else {
                throw RecordError("services.totp is enabled without a base32 secret")
            }
            user.totpSecret = secret
            left.backupCodes = (totp["hashedBackup"] as? [Any])?.count ?? 0
        }
        if let resume = services["resume"] as? [String: Any], let tokens = resume["loginTokens"] as? [[String: Any]] {
            for token in tokens {
                if token["type"] as? String == "personalAccessToken" {
                    left.personalAccessTokens += 1
                } else {
                    left.loginTokens += 1
                }
            }
        }
        return (user, left)
    }

    /// An Extended JSON date: `{"$date": "2024-01-02T03:04:05.678Z"}` (relaxed),
    /// `{"$date": {"$numberLong": "1704164645678"}}` (canonical) or `{"$date": 1704164645678}`.
    static func date(_ value: Any?) throws(RecordError) -> Date? {
        guard let value, !(value is NSNull) else { return nil }
        guard let wrapper = value as? [String: Any], let inner = wrapper["$date"] else {
            throw RecordError("createdAt is not an Extended JSON date ({\"$date\": …})")
        }
        if let long = inner as? [String: Any], let text = long["$numberLong"] as? String, let milliseconds = Int64(text) {
            return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        }
        do {
            return try UserLine.date(inner)
        } catch {
            throw RecordError("createdAt: \(error.description)")
        }
    }
}
