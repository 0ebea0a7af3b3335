import Foundation
import TesseraClient
import TesseraModel

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
    static func user(_ document: [String: JSONValue], loginExpiration: TimeInterval, now: Date) throws(RecordError) -> (ImportedUser, Left) {
        guard let id = document["_id"]?.string, !id.isEmpty else { throw RecordError("_id is missing or not a string") }
        guard let username = document["username"]?.string, !username.isEmpty else {
            throw RecordError("username is missing (a user who never chose one cannot log in by name)")
        }
        var user = ImportedUser(username: username, externalID: id)
        user.displayName = document["name"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        if let address = document["emails"]?.array?.first?.object?["address"]?.string {
            user.email = address
        }
        if let roles = document["roles"], !roles.isNull {
            guard let list = roles.array?.compactMap(\.string), list.count == roles.array?.count else {
                throw RecordError("roles must be a list of strings")
            }
            user.roles = list
        }
        if document["active"] == .bool(false) { user.state = .disabled }
        if let type = document["type"]?.string, type == "bot" || type == "app" { user.accountType = .service }
        user.createdAt = try date(document["createdAt"], field: "createdAt")
        let services = document["services"]?.object ?? [:]
        if let password = services["password"]?.object {
            if let hash = password["bcrypt"]?.string {
                user.passwordHash = "sha256-hex:" + hash
            } else if let hash = password["argon2"]?.string {
                user.passwordHash = "sha256-hex:" + hash
            }
        }
        var left = Left()
        if let totp = services["totp"]?.object, totp["enabled"] == .bool(true) {
            guard let text = totp["secret"]?.string, let secret = Base32.decode(text), !secret.isEmpty else {
                throw RecordError("services.totp is enabled without a base32 secret")
            }
            user.totpSecret = secret
            for code in totp["hashedBackup"]?.array ?? [] {
                guard let hex = code.string, let digest = Hex.parse(hex), digest.count == 32 else {
                    throw RecordError("services.totp.hashedBackup holds \(code), not the SHA-256 hex of a code")
                }
                user.recoveryCodeSHA256.append(digest)
            }
        }
        if let tokens = services["resume"]?.object?["loginTokens"]?.array {
            var sessions: [ImportedSession] = []
            for case .object(let token) in tokens {
                // Meteor's hashedToken: Base64 of SHA-256 of the token (an old unhashed `token` is not read).
                guard let text = token["hashedToken"]?.string, let digest = Data(base64Encoded: text), digest.count == 32 else {
                    left.unreadableTokens += 1
                    continue
                }
                if token["type"]?.string == "personalAccessToken" {
                    let name = token["name"]?.string.flatMap { $0.isEmpty ? nil : $0 } ?? "personal access token"
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
            left.unreadableTokens += tokens.count - tokens.count { $0.object != nil }
            sessions.sort { $0.createdAt > $1.createdAt }
            left.olderLoginTokens = max(0, sessions.count - maximumSessions)
            user.sessions = Array(sessions.prefix(maximumSessions))
        }
        return (user, left)
    }

    /// An Extended JSON date: `{"$date": "2024-01-02T03:04:05.678Z"}` (relaxed),
    /// `{"$date": {"$numberLong": "1704164645678"}}` (canonical) or `{"$date": 1704164645678}`.
    static func date(_ value: JSONValue?, field: String) throws(RecordError) -> Date? {
        guard let value, !value.isNull else { return nil }
        guard let inner = value.object?["$date"] else {
            throw RecordError("\(field) is not an Extended JSON date ({\"$date\": …})")
        }
        if let text = inner.object?["$numberLong"]?.string, let milliseconds = Int64(text) {
            return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        }
        return try UserLine.date(inner, field: field)
    }
}
