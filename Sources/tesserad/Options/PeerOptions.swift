import ArgumentParser
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

    func apply(to server: inout ServerConfiguration) {
        server.peers.adminUIDs = Set(adminUIDs)
        server.peers.adminGIDs = Set(adminGIDs)
        server.peers.applicationUIDs = Set(applicationUIDs)
        server.peers.applicationGIDs = Set(applicationGIDs)
    }
}
