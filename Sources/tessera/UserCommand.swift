import ArgumentParser
import Foundation
import TesseraClient

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Create, inspect, change, validate, unlock and delete users.",
        subcommands: [
            Add.self, Show.self, List.self, Update.self, Validate.self, NewCode.self, Passwd.self, SetState.self, Unlock.self, Delete.self,
        ])
    /// Accepted here too: `tessera user --socket PATH ...`.
    @OptionGroup var options: GlobalOptions

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a user; the password is read from standard input.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Letters, digits, '.', '_' and '-', at most 64.") var username: String
        @Option(help: "Email address (unique).") var email: String?
        @Option(help: "Display name.") var name: String?
        @Option(help: "A role; repeat for several.") var role: [String] = []
        @Option(help: "Phone number, E.164 (+33612345678).") var phone: String?
        @Flag(help: "A service account rather than a person.") var service = false
        @Flag(help: "Create the account unvalidated; prints the validation code.") var unvalidated = false
        @Option(
            help: ArgumentHelp(
                "An attribute: NAME=VALUE (a string) or NAME:KIND=VALUE, KIND number, bool (true/false) or date (1990-05-01 or RFC 3339); repeat for several.",
                valueName: "name[:kind]=value")) var attribute: [String] = []

        func validate() throws { _ = try AttributeText.assignments(attribute) }

        func run() async throws {
            let attributes = try AttributeText.assignments(attribute)
            var password = try Password.read(prompt: "Password for \(username): ")
            defer { password.resetBytes(in: 0..<password.count) }
            try await options.run { client in
                let reply = try await client.register(
                    NewUser(
                        username: username, password: password, email: email, displayName: name, roles: role, phone: phone,
                        accountType: service ? .service : nil, attributes: attributes, unvalidated: unvalidated))
                Output.show(reply.user, json: options.json, validationCode: reply.validationCode, validationExpiresAt: reply.validationExpiresAt)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change profile fields; an empty value clears a field.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var selfOption: SelfOption
        @Argument(help: "Username, email or phone.") var identifier: String?
        @Option(help: "New email.") var email: String?
        @Option(help: "New display name.") var name: String?
        @Option(help: "New phone number.") var phone: String?
        @Option(help: "Replace the roles; repeat for several.") var role: [String] = []
        @Flag(help: "Remove every role.") var clearRoles = false
        @Option(
            help: ArgumentHelp(
                "Set an attribute: NAME=VALUE (a string) or NAME:KIND=VALUE, KIND number, bool (true/false) or date (1990-05-01 or RFC 3339); repeat for several. The user's other attributes stay.",
                valueName: "name[:kind]=value")) var attribute: [String] = []
        @Option(help: ArgumentHelp("Remove an attribute; repeat for several.", valueName: "name")) var removeAttribute: [String] = []

        func validate() throws {
            try selfOption.check(identifier)
            _ = try AttributeText.assignments(attribute)
        }

        func run() async throws {
            let selector = try UserSelector.named(identifier, isSelf: selfOption.isSelf)
            let attributes = try AttributeText.assignments(attribute)
            try await options.run { client in
                let roles: [String]? = clearRoles ? [] : (role.isEmpty ? nil : role)
                let user = try await client.updateUser(
                    selector,
                    ProfileUpdate(
                        email: email, displayName: name, phone: phone, roles: roles, attributes: attributes, removingAttributes: removeAttribute))
                Output.show(user, json: options.json)
            }
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Activate an unvalidated account with its validation code.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The validation code; read from standard input when absent or '-'.") var code: String?

        func run() async throws {
            let code = try Password.tokenArgument(code, what: "validation code")
            try await options.run { client in Output.show(try await client.validate(code: code), json: options.json) }
        }
    }

    struct NewCode: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-code",
            abstract: "Issue a fresh validation code for an account waiting for validation (the previous code stops working).")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username or email.") var identifier: String

        func run() async throws {
            try await options.run { client in
                let reply = try await client.newValidationCode(for: .lookup(identifier))
                Output.show(reply.user, json: options.json, validationCode: reply.validationCode, validationExpiresAt: reply.validationExpiresAt)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users in id order, a page at a time.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Start after this user id.") var after: UInt64 = 0
        @Option(help: "Users per page (1-1000).") var limit: UInt32 = 100

        func run() async throws {
            try await options.run { client in
                let page = try await client.listUsers(afterID: after, limit: limit)
                if options.json {
                    var object: [String: Any] = ["users": page.users.map(Output.user)]
                    if let next = page.nextAfterID { object["next_after"] = Int(next) }
                    Output.json(object)
                } else {
                    for user in page.users { print("\(user.id)\t\(user.username)\t\(user.email ?? "-")\t\(user.state)") }
                    if let next = page.nextAfterID { print("more: --after \(next)") }
                }
            }
        }
    }

    struct Passwd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set a user's password (read from standard input); every session and API key of the user ends.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username or email.") var identifier: String

        func run() async throws {
            var password = try Password.read(prompt: "New password for \(identifier): ")
            defer { password.resetBytes(in: 0..<password.count) }
            try await options.run { client in
                let ended = try await client.setPassword(.lookup(identifier), password: password)
                if options.json {
                    Output.json(["password_set": true, "revoked": ended.sessions, "api_keys_revoked": ended.apiKeys])
                } else {
                    print("password set; ended \(ended.sessions) session(s) and \(ended.apiKeys) API key(s) of \(identifier)")
                }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a user with every session.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username or email.") var identifier: String

        func run() async throws {
            try await options.run { client in
                try await client.deleteUser(.lookup(identifier))
                if options.json { Output.json(["deleted": true]) } else { print("deleted \(identifier)") }
            }
        }
    }

    struct SetState: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-state", abstract: "Set an account's state; leaving 'active' ends its sessions.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username or email.") var identifier: String
        @Argument(help: "active, unvalidated or disabled.") var state: String

        func validate() throws {
            guard AccountState(name: state) != nil else { throw ValidationError("state must be active, unvalidated or disabled") }
        }

        func run() async throws {
            try await options.run { client in
                Output.show(try await client.setUserState(.lookup(identifier), to: AccountState(name: state)!), json: options.json)
            }
        }
    }

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Clear an account's failed-login count and lock.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username or email.") var identifier: String

        func run() async throws {
            try await options.run { client in
                try await client.unlockUser(.lookup(identifier))
                if options.json { Output.json(["unlocked": true]) } else { print("unlocked \(identifier)") }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a user by username, email (contains '@'), phone (starts with '+'), --id, or --self (who am I).")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var selfOption: SelfOption
        @Argument(help: "Username, email or phone.") var identifier: String?
        @Option(help: "Numeric user id.") var id: UInt64?

        func validate() throws {
            guard [identifier != nil, id != nil, selfOption.isSelf].filter({ $0 }).count == 1 else {
                throw ValidationError("give one of a username, email or phone, --id, or --self")
            }
        }

        func run() async throws {
            let lookup: UserSelector = if let id { .id(id) } else { try .named(identifier, isSelf: selfOption.isSelf) }
            try await options.run { client in
                Output.show(try await client.user(lookup), json: options.json)
            }
        }
    }
}

extension UserSelector {
    /// The user named by `identifier`, or with `isSelf`, the user of a session token read from
    /// standard input (self-service, the only way a web process's uid may name a user).
    static func named(_ identifier: String?, isSelf: Bool) throws -> UserSelector {
        if isSelf { return .sessionToken(try Password.tokenArgument(nil, what: "session token")) }
        guard let identifier else { throw ValidationError("give a username, email or phone, or --self") }
        return .lookup(identifier)
    }
}

/// `--self`: the user of a session token read from standard input.
struct SelfOption: ParsableArguments {
    @Flag(
        name: .customLong("self"),
        help: "Act on the user of a session token read from standard input (self-service: what a web process's uid may do).")
    var isSelf = false

    func check(_ identifier: String?) throws {
        guard (identifier == nil) == isSelf else { throw ValidationError("give a username, email or phone, or --self, not both") }
    }
}
