import ArgumentParser
import Foundation
import TesseraClient

@main
struct Tessera: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tessera",
        abstract: "Administer a running tesserad over its Unix socket.",
        discussion: """
            Passwords are read from standard input (a terminal gets a prompt without echo), never from \
            the command line. Errors print one line and exit with a non-zero status; --json prints \
            machine-readable output for scripts.
            """,
        subcommands: [
            Ping.self, UserCommand.self, SessionsCommand.self, KeysCommand.self, TwoFactorCommand.self, APIKeyCommand.self, ImportCommand.self,
            ExportCommand.self, Login.self, Refresh.self,
            Verify.self,
            Logout.self,
        ])

    /// The global options, accepted before the command (`tessera --socket PATH ping`) as well as
    /// after it: every command declares the same group, so a value given anywhere reaches it.
    @OptionGroup var options: GlobalOptions
}

/// Options every subcommand takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Path of tesserad's socket (default: $TESSERA_SOCKET or ./tessera.sock).")
    var socket: String = ProcessInfo.processInfo.environment["TESSERA_SOCKET"] ?? "tessera.sock"

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    func client() -> TesseraClient { TesseraClient(socketPath: socket) }

    /// Runs `body`, turning any failure into one line on standard error and exit status 1.
    func run(_ body: (TesseraClient) async throws -> Void) async throws {
        let client = client()
        do {
            try await body(client)
            await client.close()
        } catch let error as TesseraClientError {
            await client.close()
            if json {
                Output.json(["error": error.name, "message": "\(error)"])
            } else {
                FileHandle.standardError.write(Data("tessera: \(error)\n".utf8))
            }
            throw ExitCode(1)
        }
    }
}

struct Ping: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that tesserad answers; prints its version and limits.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        try await options.run { client in
            let started = ContinuousClock.now
            let hello = try await client.hello(clientName: "tessera-cli")
            _ = try await client.ping()
            let elapsed = ContinuousClock.now - started
            let micros = elapsed.components.attoseconds / 1_000_000_000_000 + elapsed.components.seconds * 1_000_000
            if options.json {
                Output.json([
                    "server": hello.serverName, "protocol_version": Int(hello.protocolVersion),
                    "max_frame_length": Int(hello.maximumFrameLength), "round_trip_us": Int(micros),
                ])
            } else {
                print("\(hello.serverName) protocol \(hello.protocolVersion), max frame \(hello.maximumFrameLength) bytes, \(micros) µs")
            }
        }
    }
}

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Log in (password from standard input); prints the access token, the refresh token and their expiry.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "Username or email.") var identifier: String
    @Option(help: "Session lifetime in seconds (capped by the daemon).") var lifetime: UInt32?
    @Flag(help: "Also ask for a JWT access token (printed last).") var jwt = false
    @Option(help: "The current code of a user with two-factor login (single use, valid about 30 s).") var code: String?

    func run() async throws {
        var password = try Password.read(prompt: "Password for \(identifier): ")
        defer { password.resetBytes(in: 0..<password.count) }
        try await options.run { client in
            let reply = try await client.login(
                identifier: identifier, password: password, userAgent: "tessera-cli", lifetimeSeconds: lifetime, jwt: jwt, code: code)
            Output.pair(reply, json: options.json)
        }
    }
}

struct Refresh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Exchange a refresh token for a new token pair; prints the new access token first.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The refresh token; read from standard input when absent or '-' (a token in argv is visible to other users).")
    var refreshToken: String?
    @Flag(help: "Also ask for a JWT access token (printed last).") var jwt = false

    func run() async throws {
        let token = try Password.tokenArgument(refreshToken)
        try await options.run { client in
            Output.pair(try await client.refresh(refreshToken: token, userAgent: "tessera-cli", jwt: jwt), json: options.json)
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a token; exits 0 only when it is valid.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The token; read from standard input when absent or '-' (a token in argv is visible to other users).")
    var token: String?

    func run() async throws {
        let token = try Password.tokenArgument(token)
        try await options.run { client in
            let reply = try await client.verify(token: token)
            if options.json {
                var object: [String: Any] = ["valid": true, "user_id": Int(reply.userID), "roles": reply.roles]
                switch reply.credential {
                case .session(let id): object["session_id"] = id.description
                case .apiKey(let id, let name):
                    object["api_key_id"] = id.description
                    object["api_key_name"] = name
                }
                if let at = reply.expiresAt { object["expires_at"] = Output.iso8601(at) }
                Output.json(object)
            } else {
                print(
                    "valid: user \(reply.userID), \(Verify.credential(reply)), expires \(reply.expiresAt.map(Output.iso8601) ?? "never")"
                        + (reply.roles.isEmpty ? "" : ", roles \(reply.roles.joined(separator: ","))"))
            }
        }
    }

    /// `session ID` or `API key ID (NAME)`.
    static func credential(_ reply: VerifiedSession) -> String {
        switch reply.credential {
        case .session(let id): "session \(id)"
        case .apiKey(let id, let name): "API key \(id) (\(name))"
        }
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the session of a token.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The token; read from standard input when absent or '-' (a token in argv is visible to other users).")
    var token: String?

    func run() async throws {
        let token = try Password.tokenArgument(token)
        try await options.run { client in
            try await client.logout(token: token)
            if options.json { Output.json(["logged_out": true]) } else { print("logged out") }
        }
    }
}
