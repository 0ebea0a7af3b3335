import ArgumentParser
import TesseraClient

struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey", abstract: "Make, list and revoke a user's API keys.",
        discussion: """
            An API key (tsk_ and 68 characters) is a long-lived credential for a machine client: a web \
            process passes it to VERIFY (or VERIFY_API_KEY) as it would a session token and gets the user, \
            the key's id, name and permissions. The key is printed once, when made; the daemon keeps only \
            its digest.
            """,
        subcommands: [Create.self, List.self, Revoke.self])
    /// Accepted here too: `tessera apikey --socket PATH ...`.
    @OptionGroup var options: GlobalOptions

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an API key; prints it once, with its id.",
            discussion: """
                An administrator names the user: tessera apikey create alice 'ci deploy'. With --self (what a web \
                process's uid may do) the key is the signed-in user's own and the user re-authenticates: standard \
                input holds the session token, then the current password, then (with --code) a current code of \
                the user's second factor, one a line: printf '%s\\n' "$TOKEN" "$PASSWORD" | tessera apikey create \
                --self 'ci deploy'.
                """)
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username, email or phone of the key's user; with --self, the key's name.") var identifier: String
        @Argument(help: "The key's name (1–64 bytes), e.g. 'ci deploy'.") var name: String?
        @OptionGroup var selfOption: SelfOption
        @Flag(help: "With --self: the user has a second factor; a current code is read after the password.")
        var code = false
        @Option(
            help:
                "Lifetime: a number with s, m, h or d (e.g. 30d, 12h); none by default (the key never expires, or lives the daemon's --api-key-max-lifetime)."
        )
        var expires: String?
        @Option(name: .customLong("permission"), help: "A permission (repeatable); each must be one of the user's roles.")
        var permissions: [String] = []

        func validate() throws {
            if let expires, APIKeyCommand.seconds(expires) == nil {
                throw ValidationError("--expires takes a number and a unit: 90s, 15m, 12h or 30d")
            }
            if selfOption.isSelf && name != nil { throw ValidationError("with --self, give the key's name alone") }
            if !selfOption.isSelf && name == nil { throw ValidationError("give the key's user and the key's name") }
            if code && !selfOption.isSelf { throw ValidationError("--code goes with --self") }
        }

        func run() async throws {
            let user: UserSelector
            var proof: Reauthentication?
            if selfOption.isSelf {
                user = .sessionToken(try Password.tokenArgument(nil, what: "session token"))
                proof = Reauthentication(password: try Password.read(prompt: "Current password: "))
                if code { proof?.code = try Password.tokenArgument(nil, what: "second-factor code") }
            } else {
                user = .lookup(identifier)
            }
            let keyName = name ?? identifier
            try await options.run { client in
                let (key, info) = try await client.createAPIKey(
                    for: user, name: keyName, lifetimeSeconds: expires.flatMap(APIKeyCommand.seconds), permissions: permissions,
                    reauthenticatedBy: proof)
                if options.json {
                    var object = APIKeyCommand.object(info)
                    object["key"] = key
                    Output.json(object)
                } else {
                    print("key: \(key)")
                    print("id: \(info.id)")
                    print("(the key is shown only now: the daemon keeps its digest alone)")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A user's API keys: id, name, prefix, created, expires, last used, revoked, permissions; never the key.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username, email or phone.") var identifier: String

        func run() async throws {
            try await options.run { client in
                let keys = try await client.apiKeys(of: .lookup(identifier))
                if options.json {
                    Output.json(["api_keys": keys.map(APIKeyCommand.object)])
                } else {
                    for key in keys {
                        let state =
                            key.revokedAt.map { "revoked \(Output.iso8601($0))" } ?? key.expiresAt.map { "expires \(Output.iso8601($0))" }
                            ?? "no expiry"
                        let permissions = key.permissions.isEmpty ? "-" : key.permissions.joined(separator: ",")
                        print(
                            "\(key.id)  \(key.prefix)…  \(key.name)  created \(Output.iso8601(key.createdAt))  \(state)  "
                                + "last used \(key.lastUsedAt.map(Output.iso8601) ?? "never")  \(permissions)")
                    }
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an API key by its id (32 hex digits, from 'apikey list'): refused from the next request on.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The key's id.") var keyID: String

        func validate() throws {
            guard APIKeyID(hex: keyID) != nil else { throw ValidationError("a key id is 32 hexadecimal digits") }
        }

        func run() async throws {
            try await options.run { client in
                try await client.revokeAPIKey(APIKeyID(hex: keyID)!)
                if options.json { Output.json(["revoked": keyID]) } else { print("revoked \(keyID)") }
            }
        }
    }

    static func object(_ key: APIKey) -> [String: Any] {
        var object: [String: Any] = [
            "id": key.id.description, "name": key.name, "prefix": key.prefix, "created_at": Output.iso8601(key.createdAt),
            "permissions": key.permissions, "revoked": key.revokedAt != nil,
        ]
        if let at = key.expiresAt { object["expires_at"] = Output.iso8601(at) }
        if let at = key.lastUsedAt { object["last_used_at"] = Output.iso8601(at) }
        if let at = key.revokedAt { object["revoked_at"] = Output.iso8601(at) }
        return object
    }

    /// `30d`, `12h`, `15m`, `90s` in seconds; `nil` for anything else (or 0, or beyond a u32).
    static func seconds(_ text: String) -> UInt32? {
        guard let unit = text.last, let number = UInt64(text.dropLast()), number > 0 else { return nil }
        let scale: UInt64? = ["s": 1, "m": 60, "h": 3600, "d": 86400][unit]
        guard let scale, number <= UInt64(UInt32.max) / scale else { return nil }
        return UInt32(number * scale)
    }
}
