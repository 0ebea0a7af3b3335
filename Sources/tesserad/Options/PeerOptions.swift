import ArgumentParser
import Foundation
@_spi(TesseraInternal) import TesseraCore
import TesseraServer

/// Who may connect, and as what: administrators and web processes, by uid and gid.
struct PeerOptions: ParsableArguments {
    @Option(
        name: .customLong("admin-uid"),
        help: "A uid whose connections may use every operation (repeatable). Root and the daemon's own uid always may.")
    var adminUIDs: [UInt32] = []

    @Option(name: .customLong("admin-gid"), help: "A group whose members may use every operation (repeatable).")
    var adminGIDs: [UInt32] = []

    @Option(
        name: .customLong("app-uid"),
        help: """
            A uid of a web process (repeatable): it may use every operation but the administrators' (sign-up, login, \
            verify, refresh, logout, and self-service on the user of a token it sends; PROTOCOL.md section 10). With \
            no --app-uid and no --app-gid, members of the socket's group are applications. Any other peer is refused \
            at connect.
            """)
    var applicationUIDs: [UInt32] = []

    @Option(name: .customLong("app-gid"), help: "A group whose members are web processes (repeatable).")
    var applicationGIDs: [UInt32] = []

    @Option(
        name: .customLong("signup-roles"),
        help: """
            The roles a sign-up from a web process gets, comma-separated (repeatable). A web process cannot choose \
            roles itself; an administrator's CREATE_USER sets the roles it sends. Default: none.
            """)
    var signupRoleLists: [String] = []

    /// `--signup-roles`, each list split at its commas.
    var signupRoles: [String] {
        signupRoleLists.flatMap { $0.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) } }
    }

    func validate() throws {
        if let problem = AuthConfiguration.signupRolesProblem(signupRoles) { throw ValidationError("--signup-roles: \(problem)") }
    }

    func apply(to auth: inout AuthConfiguration) {
        auth.signupRoles = signupRoles
    }

    func apply(to server: inout ServerConfiguration) {
        server.peers.adminUIDs = Set(adminUIDs)
        server.peers.adminGIDs = Set(adminGIDs)
        server.peers.applicationUIDs = Set(applicationUIDs)
        server.peers.applicationGIDs = Set(applicationGIDs)
    }
}
