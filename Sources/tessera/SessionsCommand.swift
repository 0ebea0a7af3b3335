import ArgumentParser
import TesseraClient

struct SessionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions", abstract: "List and end a user's sessions.",
        subcommands: [List.self, Revoke.self, RevokeAll.self])
    /// Accepted here too: `tessera sessions --socket PATH ...`.
    @OptionGroup var options: GlobalOptions

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a user's sessions (never their tokens).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var selfOption: SelfOption
        @Argument(help: "Username, email or phone.") var identifier: String?

        func validate() throws { try selfOption.check(identifier) }

        func run() async throws {
            let selector = try UserSelector.named(identifier, isSelf: selfOption.isSelf)
            try await options.run { client in
                let sessions = try await client.sessions(of: selector)
                if options.json {
                    Output.json([
                        "sessions": sessions.map { session -> [String: Any] in
                            var object: [String: Any] = [
                                "id": session.sessionID.description, "created_at": Output.iso8601(session.createdAt),
                                "expires_at": Output.iso8601(session.expiresAt),
                            ]
                            if let ip = session.clientIP { object["client_ip"] = ip }
                            if let agent = session.userAgent { object["user_agent"] = agent }
                            return object
                        }
                    ])
                } else {
                    for session in sessions {
                        print(
                            "\(session.sessionID)  created \(Output.iso8601(session.createdAt))  expires \(Output.iso8601(session.expiresAt))  \(session.clientIP ?? "-")  \(session.userAgent ?? "-")"
                        )
                    }
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End one session by its id (32 hex digits, from 'sessions list').")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var selfOption: SelfOption
        @Argument(help: "Session id.") var sessionID: String

        func validate() throws {
            guard SessionID(hex: sessionID) != nil else { throw ValidationError("a session id is 32 hexadecimal digits") }
        }

        func run() async throws {
            let token = selfOption.isSelf ? try Password.tokenArgument(nil, what: "session token") : nil
            try await options.run { client in
                try await client.revokeSession(SessionID(hex: sessionID)!, sessionToken: token)
                if options.json { Output.json(["revoked": 1]) } else { print("revoked \(sessionID)") }
            }
        }
    }

    struct RevokeAll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke-all", abstract: "End every session and every API key of a user (log out everywhere).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username or email.") var identifier: String
        @Option(help: "A session id to keep.") var except: String?

        func validate() throws {
            if let except, SessionID(hex: except) == nil { throw ValidationError("--except takes a session id of 32 hexadecimal digits") }
        }

        func run() async throws {
            try await options.run { client in
                let ended = try await client.revokeAllSessions(of: .lookup(identifier), except: except.flatMap { SessionID(hex: $0) })
                if options.json {
                    Output.json(["revoked": ended.sessions, "api_keys_revoked": ended.apiKeys])
                } else {
                    print("revoked \(ended.sessions) session(s) and \(ended.apiKeys) API key(s)")
                }
            }
        }
    }
}
