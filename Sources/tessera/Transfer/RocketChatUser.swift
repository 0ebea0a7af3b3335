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
/// | `services.totp.hashedBackup` (SHA-256 hex of each code) | recovery codes, each once |
/// | `services.resume.loginTokens[]` `{when, hashedToken}` | sessions: the client's `authToken` verifies until `when` + the login expiration |
/// | the same with `type: "personalAccessToken"` | API keys, under their `name`, that accept the old token |
///
/// Only the newest ``maximumSessions`` login tokens of a user are imported; the older ones, the
/// expired ones and any without a `hashedToken` are counted in the summary.
enum RocketChatUser {
    /// At most this many login tokens a user (the daemon's limit).
    static let maximumSessions = 100

    /// What a document held that is left out.
    struct Left {
        var expiredLoginTokens = 0
        var olderLoginTokens = 0
        var unreadableTokens = 0
    }

    /// The user of `document`, and what it held that is left out. A login token expires
    /// `loginExpiration` after its `when` (Rocket.Chat's "Login Expiration in Days", 90 by
    /// default); one past that at `now` is left out.
    static func user(_ document: [String: Any], loginExpiration: TimeInterval, now: Date) throws(RecordError) -> (ImportedUser, Left) {
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
        user.createdAt = try date(document["createdAt"], field: "createdAt")
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
            for code in totp["hashedBackup"] as? [Any] ?? [] {
                guard let hex = code as? String, let digest = Hex.parse(hex), digest.count == 32 else {
                    throw RecordError("services.totp.hashedBackup holds \(code), not the SHA-256 hex of a code")
                }
                user.recoveryCodeSHA256.append(digest)
            }
        }
        if let resume = services["resume"] as? [String: Any], let tokens = resume["loginTokens"] as? [[String: Any]] {
            var sessions: [ImportedSession] = []
            for token in tokens {
                // Meteor's hashedToken: Base64 of SHA-256 of the token (an old unhashed `token` is not read).
                guard let text = token["hashedToken"] as? String, let digest = Data(base64Encoded: text), digest.count == 32 else {
                    left.unreadableTokens += 1
                    continue
                }
                if token["type"] as? String == "personalAccessToken" {
                    let name = (token["name"] as? String).flatMap { $0.isEmpty ? nil : $0 } ?? "personal access token"
                    let created = try date(token["createdAt"], field: "a personal access token's createdAt") ?? user.createdAt ?? now
                    user.apiKeys.append(ImportedAPIKey(tokenSHA256: Array(digest), name: String(name.prefix(64)), createdAt: created))
                    continue
                }
                guard let when = try date(token["when"], field: "a login token's when") else {
                    left.unreadableTokens += 1
                    continue
                }
                let expires = when.addingTimeInterval(loginExpiration)
                guard expires > now else {
                    left.expiredLoginTokens += 1
                    continue
                }
                sessions.append(ImportedSession(tokenSHA256: Array(digest), createdAt: when, expiresAt: expires))
            }
            sessions.sort { $0.createdAt > $1.createdAt }
            left.olderLoginTokens = max(0, sessions.count - maximumSessions)
            user.sessions = Array(sessions.prefix(maximumSessions))
        }
        return (user, left)
    }

    /// An Extended JSON date: `{"$date": "2024-01-02T03:04:05.678Z"}` (relaxed),
    /// `{"$date": {"$numberLong": "1704164645678"}}` (canonical) or `{"$date": 1704164645678}`.
    static func date(_ value: Any?, field: String) throws(RecordError) -> Date? {
        guard let value, !(value is NSNull) else { return nil }
        guard let wrapper = value as? [String: Any], let inner = wrapper["$date"] else {
            throw RecordError("\(field) is not an Extended JSON date ({\"$date\": …})")
        }
        if let long = inner as? [String: Any], let text = long["$numberLong"] as? String, let milliseconds = Int64(text) {
            return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        }
        return try UserLine.date(inner, field: field)
    }
}
