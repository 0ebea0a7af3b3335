import ArgumentParser
import Crypto
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import TesseraClient

/// A live Unleash database, read with a PostgreSQL client (postgres-nio), made into Tessera
/// users:
///
/// | Unleash | Tessera |
/// |---|---|
/// | `users.id` | `external_id` (the gateway's Unleash API answers it as the user's `id`) |
/// | `username` (or, for a user known only by email, `unleash-<id>`), `email`, `name`, `image_url`, `created_at` | the same |
/// | `password_hash` (bcryptjs: `$2a$`, `$2b$`) | kept; checked at the first login and replaced by argon2id |
/// | the root role (`role_user` → `roles` of type `root`) | `root_role` (Admin, Editor, Viewer; a custom one by its id) and the role of that name |
/// | `is_service` | a service account |
/// | `unleash_session` rows still live, with the session secret | sessions: the browser's `unleash-session` cookie keeps working |
/// | `personal_access_tokens` still live (`secret`, or `selector` + `verifier`) | API keys that accept the old token |
///
/// Deleted users (`deleted_at`) and Unleash's own system users (`is_system`) are left out and
/// counted. The position an import resumes after is the user id.
struct UnleashSource {
    /// Where the database is and how to log in to it.
    struct Location {
        var host: String
        var port: Int
        /// A directory holding the server's socket (libpq's `host=/path`), instead of TCP.
        var socketDirectory: String?
        var user: String
        var password: String?
        var database: String
        var tls: TLSMode

        enum TLSMode: String {
            case disable, prefer, require
        }

        /// `postgres://USER@HOST[:PORT]/DATABASE[?sslmode=disable|prefer|require][&host=/socket/dir]`.
        /// A password in the URL is refused (it would show in `ps` and in shell history): it
        /// comes from `passwordFile`, else from `PGPASSWORD`.
        init(url text: String, passwordFile: String?, environment: [String: String]) throws {
            guard let url = URLComponents(string: text), url.scheme == "postgres" || url.scheme == "postgresql" else {
                throw ValidationError("--postgres must be a postgres://USER@HOST[:PORT]/DATABASE URL")
            }
            guard url.password == nil else {
                throw ValidationError(
                    "--postgres must not hold the password (it would show in ps and in shell history): "
                        + "give it in a file with --postgres-password-file, or in PGPASSWORD")
            }
            guard let user = url.user, !user.isEmpty else { throw ValidationError("--postgres names no user (postgres://USER@HOST/DATABASE)") }
            let database = String(url.path.drop { $0 == "/" })
            guard !database.isEmpty else { throw ValidationError("--postgres names no database (postgres://USER@HOST/DATABASE)") }
            let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
            if let unknown = query.keys.first(where: { !["sslmode", "host"].contains($0) }) {
                throw ValidationError("--postgres: unknown parameter \(unknown) (sslmode and host are read)")
            }
            self.user = user.removingPercentEncoding ?? user
            self.database = database.removingPercentEncoding ?? database
            host = url.host ?? "localhost"
            port = url.port ?? 5432
            socketDirectory = query["host"].flatMap { $0.hasPrefix("/") ? $0 : nil }
            let local = socketDirectory != nil || ["localhost", "127.0.0.1", "::1"].contains(host)
            if let mode = query["sslmode"] {
                guard let known = TLSMode(rawValue: mode) else { throw ValidationError("--postgres: sslmode must be disable, prefer or require") }
                tls = known
            } else {
                tls = local ? .disable : .prefer
            }
            if let passwordFile {
                let contents: String
                do {
                    contents = try String(contentsOfFile: passwordFile, encoding: .utf8)
                } catch {
                    throw ValidationError("cannot read \(passwordFile): \(error.localizedDescription)")
                }
                password = String(contents.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
            } else {
                password = environment["PGPASSWORD"]
            }
        }

        /// The name the daemon keeps this import's position under.
        var sourceName: String { "unleash:\(socketDirectory ?? host):\(port)/\(database)" }

        func configuration() throws -> PostgresConnection.Configuration {
            if let socketDirectory {
                return PostgresConnection.Configuration(
                    unixSocketPath: socketDirectory + "/.s.PGSQL.\(port)", username: user, password: password, database: database)
            }
            let tls: PostgresConnection.Configuration.TLS
            switch self.tls {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            return PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
    }

    /// One Unleash user and what it holds.
    struct Row {
        var id: Int
        var username: String?
        var email: String?
        var name: String?
        var imageURL: String?
        var passwordHash: String?
        var createdAt: Date?
        var isService: Bool
        var rootRole: (id: Int, name: String)?
    }

    /// What the database held that is left out, by kind.
    var left: [String: Int] = [:]
    /// The users after the resume position, in id order.
    var users: [Row] = []
    var sessions: [Int: [ImportedSession]] = [:]
    var accessTokens: [Int: [ImportedAPIKey]] = [:]

    /// Reads the users with an id above `after`, their live sessions (only with
    /// `sessionSecret`: a session is the cookie signed with it) and their live personal access
    /// tokens, in one read-only transaction (one snapshot of the database).
    static func read(_ location: Location, after: UInt64, sessionSecret: [UInt8]?, logger: Logger) async throws -> UnleashSource {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try location.configuration(), id: 1, logger: logger)
        } catch {
            throw ValidationError(
                "cannot connect to PostgreSQL at \(location.socketDirectory ?? location.host):\(location.port): \(Self.describe(error))")
        }
        do {
            let source = try await read(connection, after: after, sessionSecret: sessionSecret, logger: logger)
            try await connection.close()
            return source
        } catch {
            try? await connection.close()
            if error is ValidationError { throw error }
            throw ValidationError("reading the Unleash database failed: \(Self.describe(error))")
        }
    }

    private static func read(
        _ connection: PostgresConnection, after: UInt64, sessionSecret: [UInt8]?, logger: Logger
    ) async throws
        -> UnleashSource
    {
        var source = UnleashSource()
        try await connection.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        // Columns later Unleash versions added: read when there.
        var columns: Set<String> = []
        for try await (table, column) in try await connection.query(
            """
            SELECT table_name::text, column_name::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name IN ('users', 'personal_access_tokens', 'unleash_session')
            """, logger: logger
        ).decode((String, String).self) {
            columns.insert(table + "." + column)
        }
        guard columns.contains("users.password_hash") else {
            throw ValidationError("the database has no Unleash users table (users.password_hash) in its current schema")
        }
        let live = columns.contains("users.deleted_at") ? "u.deleted_at IS NULL" : "true"
        let notSystem = columns.contains("users.is_system") ? "NOT u.is_system" : "true"
        let service = columns.contains("users.is_service") ? "coalesce(u.is_service, false)" : "false"
        if columns.contains("users.deleted_at") {
            source.left["deleted_users"] = try await count(connection, "SELECT count(*) FROM users u WHERE u.deleted_at IS NOT NULL", logger)
        }
        if columns.contains("users.is_system") {
            source.left["unleash_system_users"] = try await count(connection, "SELECT count(*) FROM users u WHERE u.is_system", logger)
        }
        let rows = try await connection.query(
            """
            SELECT u.id, u.username, u.email, u.name, u.image_url, u.password_hash, u.created_at, \(unescaped: service),
                   (SELECT r.id FROM role_user ru JOIN roles r ON r.id = ru.role_id
                     WHERE ru.user_id = u.id AND r.type IN ('root', 'root-custom') ORDER BY r.id LIMIT 1),
                   (SELECT r.name FROM role_user ru JOIN roles r ON r.id = ru.role_id
                     WHERE ru.user_id = u.id AND r.type IN ('root', 'root-custom') ORDER BY r.id LIMIT 1)
            FROM users u WHERE \(unescaped: live) AND \(unescaped: notSystem) AND u.id > \(Int(clamping: after)) ORDER BY u.id
            """, logger: logger)
        for try await (id, username, email, name, imageURL, hash, createdAt, isService, roleID, roleName) in rows.decode(
            (Int, String?, String?, String?, String?, String?, Date?, Bool, Int?, String?).self)
        {
            source.users.append(
                Row(
                    id: id, username: username, email: email, name: name, imageURL: imageURL, passwordHash: hash, createdAt: createdAt,
                    isService: isService, rootRole: roleID.flatMap { id in roleName.map { (id, $0) } }))
        }
        if columns.contains("unleash_session.sid") {
            let sessions = try await connection.query(
                """
                SELECT sid, (sess::json -> 'user' ->> 'id')::int, created_at, expired FROM unleash_session
                WHERE expired > now() AND (sess::json -> 'user' ->> 'id') ~ '^[0-9]+$'
                """, logger: logger)
            for try await (sid, userID, createdAt, expired) in sessions.decode((String, Int, Date?, Date).self) {
                guard let secret = sessionSecret else {
                    source.left["sessions_without_the_session_secret", default: 0] += 1
                    continue
                }
                let cookie = UnleashCookie.signed(sid: sid, secret: secret)
                source.sessions[userID, default: []].append(
                    ImportedSession(
                        tokenSHA256: Array(SHA256.hash(data: Array(cookie.utf8))), createdAt: createdAt ?? expired.addingTimeInterval(-172_800),
                        expiresAt: expired))
            }
            source.left["expired_sessions"] = try await count(connection, "SELECT count(*) FROM unleash_session WHERE expired <= now()", logger)
        }
        if columns.contains("personal_access_tokens.user_id") {
            let verifier = columns.contains("personal_access_tokens.verifier") ? "verifier" : "NULL::text"
            let tokens = try await connection.query(
                """
                SELECT user_id, secret, \(unescaped: verifier), description, created_at, expires_at FROM personal_access_tokens
                WHERE expires_at > now()
                """, logger: logger)
            for try await (userID, secret, verifier, description, createdAt, expiresAt) in tokens.decode(
                (Int, String?, String?, String?, Date, Date).self)
            {
                // A legacy token is stored as it is; a newer one as its verifier, base64url of
                // SHA-256 of the whole token: either way, the SHA-256 of what the client sends.
                let digest: [UInt8]
                if let secret {
                    digest = Array(SHA256.hash(data: Array(secret.utf8)))
                } else if let verifier, let bytes = UnleashCookie.base64URLDecode(verifier), bytes.count == 32 {
                    digest = bytes
                } else {
                    source.left["unreadable_access_tokens", default: 0] += 1
                    continue
                }
                let name = (description.flatMap { $0.isEmpty ? nil : $0 } ?? "personal access token").prefix(64)
                source.accessTokens[userID, default: []].append(
                    ImportedAPIKey(tokenSHA256: digest, name: String(name), createdAt: createdAt, expiresAt: expiresAt))
            }
            source.left["expired_access_tokens"] = try await count(
                connection, "SELECT count(*) FROM personal_access_tokens WHERE expires_at <= now()", logger)
        }
        try await connection.query("COMMIT", logger: logger)
        // Sessions and tokens of users not imported (deleted ones, system users) are said.
        let imported = Set(source.users.map(\.id))
        for (id, list) in source.sessions where id > after && !imported.contains(id) {
            source.left["sessions_of_users_left_out", default: 0] += list.count
        }
        for (id, list) in source.accessTokens where id > after && !imported.contains(id) {
            source.left["access_tokens_of_users_left_out", default: 0] += list.count
        }
        return source
    }

    private static func count(_ connection: PostgresConnection, _ sql: String, _ logger: Logger) async throws -> Int {
        for try await count in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int.self) { return count }
        return 0
    }

    /// A PostgreSQL error as its server message, not the client's type dump.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }

    /// The user of `row`, with its newest sessions (at most the daemon's limit) and its tokens.
    func user(_ row: Row) -> ImportedUser {
        let username = row.username.flatMap { $0.isEmpty ? nil : $0 } ?? "unleash-\(row.id)"
        var user = ImportedUser(username: username, externalID: String(row.id))
        user.email = row.email.flatMap { $0.isEmpty ? nil : $0 }
        user.displayName = row.name.flatMap { $0.isEmpty ? nil : $0 }
        user.imageURL = row.imageURL.flatMap { $0.isEmpty ? nil : $0 }
        user.passwordHash = row.passwordHash.flatMap { $0.isEmpty ? nil : $0 }
        user.createdAt = row.createdAt
        if row.isService { user.accountType = .service }
        if let role = row.rootRole {
            let standard = ["Admin", "Editor", "Viewer"].contains(role.name)
            user.rootRole = standard ? role.name : String(role.id)
            user.roles = [role.name.lowercased()]
        }
        user.sessions = Array((sessions[row.id] ?? []).sorted { $0.createdAt > $1.createdAt }.prefix(RocketChatUser.maximumSessions))
        user.apiKeys = accessTokens[row.id] ?? []
        return user
    }
}

/// The `unleash-session` cookie as express-session signs it (the cookie-signature package):
/// `s:` + sid + `.` + Base64 of HMAC-SHA-256(sid, key: the session secret), `=` stripped.
enum UnleashCookie {
    static func signed(sid: String, secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(sid.utf8), using: SymmetricKey(data: secret))
        let signature = Data(mac).base64EncodedString().replacingOccurrences(of: "=", with: "")
        return "s:" + sid + "." + signature
    }

    static func base64URLDecode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
