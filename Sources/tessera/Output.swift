import ArgumentParser
import Foundation
import TesseraClient

/// Text and JSON output of the CLI.
enum Output {
    static func json(_ object: [String: Any]) {
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    static func user(_ user: User) -> [String: Any] {
        var object: [String: Any] = ["id": Int(user.id), "username": user.username, "created_at": iso8601(user.createdAt), "roles": user.roles]
        if let email = user.email { object["email"] = email }
        if let name = user.displayName { object["name"] = name }
        object["state"] = user.state.description
        if let phone = user.phone { object["phone"] = phone }
        object["account_type"] = user.accountType.description
        if let role = user.rootRole { object["root_role"] = role }
        if let id = user.externalID { object["external_id"] = id }
        if let url = user.imageURL { object["image_url"] = url }
        if let last = user.lastLoginAt { object["last_login_at"] = iso8601(last) }
        object["failed_logins"] = Int(user.failedLogins)
        if !user.settings.isEmpty { object["settings"] = user.settings }
        if !user.attributes.isEmpty { object["attributes"] = AttributeText.json(user.attributes) }
        return object
    }

    static func show(_ user: User, json: Bool, validationCode: String? = nil, validationExpiresAt: Date? = nil) {
        if json {
            var object = self.user(user)
            if let validationCode { object["validation_code"] = validationCode }
            if let validationExpiresAt { object["validation_expires_at"] = iso8601(validationExpiresAt) }
            self.json(object)
            return
        }
        print("id:       \(user.id)")
        print("username: \(user.username)")
        if let email = user.email { print("email:    \(email)") }
        if let name = user.displayName { print("name:     \(name)") }
        if !user.roles.isEmpty { print("roles:    \(user.roles.joined(separator: ", "))") }
        print("state:    \(user.state)")
        if let phone = user.phone { print("phone:    \(phone)") }
        if user.failedLogins > 0 { print("failed:   \(user.failedLogins) consecutive failed logins") }
        if let last = user.lastLoginAt { print("last login: \(iso8601(last))") }
        for (name, value) in user.attributes.sorted(by: { $0.key < $1.key }) { print("attribute \(name) (\(value.kind)): \(value.text)") }
        if let validationCode { print("validation code: \(validationCode)") }
        if let validationExpiresAt { print("code expires: \(iso8601(validationExpiresAt))") }
        print("created:  \(iso8601(user.createdAt))")
    }

    /// A login or refresh reply: the access token on the first line, then the refresh token.
    static func pair(_ reply: LoginResult, json: Bool) {
        if json {
            var object: [String: Any] = [
                "token": reply.token, "session_id": reply.sessionID.description,
                "expires_at": iso8601(reply.expiresAt), "user": user(reply.user),
            ]
            object["refresh_token"] = reply.refreshToken
            object["refresh_expires_at"] = iso8601(reply.refreshExpiresAt)
            if let jwt = reply.jwt { object["jwt"] = jwt }
            if let at = reply.jwtExpiresAt { object["jwt_expires_at"] = iso8601(at) }
            self.json(object)
        } else {
            print(reply.token)
            print(reply.refreshToken)
            print(
                "expires \(iso8601(reply.expiresAt)), session \(reply.sessionID), user \(reply.user.username) (id \(reply.user.id))"
                    + ", refresh token expires \(iso8601(reply.refreshExpiresAt))")
            if let jwt = reply.jwt, let at = reply.jwtExpiresAt { print("jwt (expires \(iso8601(at))): \(jwt)") }
        }
    }

    static func iso8601(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    /// With milliseconds, so that a time exported is the time imported back.
    static func iso8601Milliseconds(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}

/// Secrets from standard input.
enum Password {
    /// Reads a password: with a prompt and no echo on a terminal, else the first line of standard input.
    static func read(prompt: String) throws -> [UInt8] {
        let terminal = isatty(STDIN_FILENO) == 1
        var saved = termios()
        if terminal {
            FileHandle.standardError.write(Data(prompt.utf8))
            tcgetattr(STDIN_FILENO, &saved)
            var silent = saved
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        }
        defer {
            if terminal {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
                FileHandle.standardError.write(Data("\n".utf8))
            }
        }
        let bytes = try line(maximum: 4096, what: "password")
        guard !bytes.isEmpty else { throw ValidationError("no password on standard input") }
        return bytes
    }

    /// A token argument, or the first line of standard input for "-".
    /// A token or code: from standard input unless one is given on the command line (where
    /// other users can read it in `/proc/*/cmdline`; prefer standard input). `-` also means
    /// standard input.
    static func tokenArgument(_ argument: String?, what: String = "token") throws -> String {
        if let argument, argument != "-" { return argument }
        let line = try self.line(maximum: 4096, what: what)
        guard !line.isEmpty, let text = String(validating: line, as: UTF8.self) else { throw ValidationError("no \(what) on standard input") }
        return text
    }

    /// One line of standard input, read a byte at a time (no buffering: a secret on the next
    /// line stays for the next read).
    private static func line(maximum: Int, what: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while Foundation.read(STDIN_FILENO, &byte, 1) == 1 {
            if byte == 0x0a { break }
            bytes.append(byte)
            if bytes.count > maximum { throw ValidationError("\(what) longer than \(maximum) bytes") }
        }
        if bytes.last == 0x0d { bytes.removeLast() }
        return bytes
    }
}
