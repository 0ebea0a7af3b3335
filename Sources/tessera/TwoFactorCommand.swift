import ArgumentParser
import TesseraClient

struct TwoFactorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "2fa", abstract: "See or reset a user's two-factor login (TOTP).",
        discussion: """
            Users enrol through the web application (ENROL_TWO_FACTOR, then CONFIRM_TWO_FACTOR with a code \
            from their app). An administrator sees where a user stands and resets a lost factor: the user \
            then logs in with the password alone and may enrol again.
            """,
        subcommands: [Status.self, Reset.self])
    /// Accepted here too: `tessera 2fa --socket PATH ...`.
    @OptionGroup var options: GlobalOptions

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Whether a user has two-factor login: none, pending (not yet confirmed) or enrolled, and the recovery codes left.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username, email or phone.") var identifier: String

        func run() async throws {
            try await options.run { client in
                let status = try await client.twoFactorStatus(of: .lookup(identifier))
                let state = status.state.description
                let algorithm = status.algorithm?.description
                if options.json {
                    var object: [String: Any] = ["user": identifier, "state": state]
                    if let algorithm { object["algorithm"] = algorithm }
                    if let digits = status.digits { object["digits"] = digits }
                    if let period = status.periodSeconds { object["period_seconds"] = period }
                    if let at = status.createdAt { object["created_at"] = Output.iso8601(at) }
                    if let at = status.confirmedAt { object["confirmed_at"] = Output.iso8601(at) }
                    if let left = status.recoveryCodesLeft, status.state == .enrolled { object["recovery_codes_left"] = left }
                    Output.json(object)
                } else if status.state == .none {
                    print("\(identifier): none")
                } else {
                    var line = "\(identifier): \(state) (\(algorithm ?? "?"), \(status.digits ?? 0) digits, \(status.periodSeconds ?? 0) s)"
                    if let at = status.confirmedAt {
                        line += ", since \(Output.iso8601(at)), \(status.recoveryCodesLeft ?? 0) recovery code(s) left"
                    } else if let at = status.createdAt {
                        line += ", issued \(Output.iso8601(at))"
                    }
                    print(line)
                }
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user's second factor (administrator): the next login needs the password alone.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "Username, email or phone.") var identifier: String

        func run() async throws {
            try await options.run { client in
                try await client.disableTwoFactor(of: .lookup(identifier))
                if options.json { Output.json(["user": identifier, "reset": true]) } else { print("two-factor login of \(identifier) removed") }
            }
        }
    }
}
