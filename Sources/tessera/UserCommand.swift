import ArgumentParser
import TesseraClient
import TesseraProtocol

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create and inspect users.",
        subcommands: [Add.self, Show.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; the password is read from standard input.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Letters, digits, '.', '_' and '-', at most 64.") var username: String
        @Option(help: "Email address (unique).") var email: String?
        @Option(help: "Display name.") var name: String?
        @Option(help: "A role; repeat for several.") var role: [String] = []

        func run() async throws {
            var password = try Password.read(prompt: "Password for \(username): ")
            defer { password.resetBytes(in: 0..<password.count) }
            try await options.run { client in
                let user = try await client.createUser(username: username, password: password, email: email, displayName: name, roles: role)
                Output.show(user, json: options.json)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a user by username, email (contains '@') or --id.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username or email.") var identifier: String?
        @Option(help: "Numeric user id.") var id: UInt64?

        func validate() throws {
            guard (identifier == nil) != (id == nil) else { throw ValidationError("give a username or email, or --id, not both") }
        }

        func run() async throws {
            let lookup: GetUserRequest = if let id { .id(id) } else if identifier!.contains("@") { .email(identifier!) } else { .username(identifier!) }
            try await options.run { client in
                Output.show(try await client.user(lookup), json: options.json)
            }
        }
    }
}
