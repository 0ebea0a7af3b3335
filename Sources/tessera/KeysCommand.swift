import ArgumentParser
import Foundation
import TesseraClient

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "List, rotate and retire the token keys (never shows key material).",
        subcommands: [List.self, Rotate.self, Retire.self, RotateMaster.self, JWKS.self])
    /// Accepted here too: `tessera keys --socket PATH ...`.
    @OptionGroup var options: GlobalOptions

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every key: id, purpose, state, created, activated, verify-only since, retires at.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.run { client in
                let keys = try await client.keys()
                if options.json {
                    Output.json(["keys": keys.map(Self.object)])
                } else {
                    print("id     purpose        state        created               activated             retires")
                    for key in keys {
                        let columns = [
                            String(key.id).padding(6), key.purpose.description.padding(14), key.state.description.padding(12),
                            Output.iso8601(key.createdAt).padding(21), (key.activatedAt.map(Output.iso8601) ?? "-").padding(21),
                            key.retiresAt.map(Output.iso8601) ?? "-",
                        ]
                        print(columns.joined(separator: " "))
                    }
                }
            }
        }

        static func object(_ key: TokenKey) -> [String: Any] {
            var object: [String: Any] = [
                "id": Int(key.id), "purpose": key.purpose.description, "state": key.state.description,
                "created_at": Output.iso8601(key.createdAt),
            ]
            if let at = key.activatedAt { object["activated_at"] = Output.iso8601(at) }
            if let at = key.verifyOnlySince { object["verify_only_since"] = Output.iso8601(at) }
            if let at = key.retiresAt { object["retires_at"] = Output.iso8601(at) }
            return object
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Make a new key active. The previous key still verifies what it made until that cannot be alive, then retires: nobody is logged out.")
        @OptionGroup var options: GlobalOptions
        @Option(
            help: "token-digest (session, refresh and validation tokens), jwt-signing, or secret-sealing (two-factor secrets, re-sealed at once).")
        var purpose = "token-digest"

        func validate() throws {
            guard KeysCommand.purpose(named: purpose) != nil else {
                throw ValidationError("--purpose is token-digest, jwt-signing or secret-sealing")
            }
        }

        func run() async throws {
            try await options.run { client in
                let key = try await client.rotateKey(KeysCommand.purpose(named: purpose)!)
                if options.json { Output.json(["key": List.object(key)]) } else { print("key \(key.id) is active") }
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire a key now (a compromised key): every token made under it is refused at once.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The key id, from 'keys list'.") var keyID: UInt16
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            if !yes {
                print("Retiring key \(keyID) ends every session and refresh token made under it. Type 'yes' to go on: ", terminator: "")
                guard readLine(strippingNewline: true) == "yes" else {
                    throw ValidationError("not confirmed; nothing changed (--yes skips the question)")
                }
            }
            try await options.run { client in
                let (key, ended) = try await client.retireKey(keyID)
                if options.json {
                    Output.json(["key": List.object(key), "sessions_ended": Int(ended)])
                } else {
                    print("key \(key.id) retired; \(ended) live session(s) ended")
                }
            }
        }
    }

    struct RotateMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master",
            abstract: "Seal the token keys under a new master key, written by the daemon to a new file; then restart it with --master-key PATH.")
        @OptionGroup var options: GlobalOptions
        @Option(
            name: .customLong("new-master-key"),
            help: "Where the daemon writes the new master key (a new file on the daemon's host; a relative path is taken from this directory).")
        var newMasterKey: String

        func run() async throws {
            // The daemon takes only an absolute path: its working directory is not this one.
            let newMasterKey = newMasterKey.hasPrefix("/") ? newMasterKey : FileManager.default.currentDirectoryPath + "/" + newMasterKey
            try await options.run { client in
                let sealed = try await client.rotateMasterKey(newKeyFile: newMasterKey)
                if options.json {
                    Output.json(["keys_sealed": Int(sealed), "master_key": newMasterKey])
                } else {
                    print("\(sealed) key(s) sealed under the master key in \(newMasterKey); restart tesserad with --master-key \(newMasterKey)")
                }
            }
        }
    }

    struct JWKS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jwks", abstract: "Print the JWKS (JSON) of the JWT signing keys, for services that verify JWTs offline.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await options.run { client in print(try await client.jwks()) }
        }
    }

    /// The purpose named on the command line (`token-digest`, `jwt-signing`, `secret-sealing`).
    static func purpose(named name: String) -> KeyPurpose? {
        KeyPurpose.allCases.first { $0.description == name }
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
