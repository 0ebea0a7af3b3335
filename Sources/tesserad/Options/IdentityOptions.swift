import ArgumentParser
import TesseraServer

/// Whom the daemon runs as, and whose group its socket is.
struct IdentityOptions: ParsableArguments {
    @Option(
        name: .customLong("user"),
        help: """
            Started as root: bind the socket, then become this user (a name or uid) for good, before the master key \
            or the data is read; both then belong to the user. Without it, a daemon started as root stays root.
            """)
    var user: String?

    @Option(name: .customLong("group"), help: "With --user: the group to become (a name or gid). Default: the user's primary group.")
    var group: String?

    @Option(
        name: .customLong("socket-group"),
        help: """
            The socket file's group (a name or gid): its members may connect, and are the web processes when no \
            --app-uid or --app-gid is given. Default: the daemon's group (--group when given). Another group than the \
            daemon's own needs the daemon started as root.
            """)
    var socketGroup: String?

    func validate() throws {
        if group != nil, user == nil { throw ValidationError("--group goes with --user") }
    }

    /// Whom to become after binding, `nil` to stay as started.
    func identity() throws -> ProcessIdentity? {
        guard let user else { return nil }
        do {
            return try ProcessIdentity.resolve(user: user, group: group)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The socket file's group: `--socket-group`, else the group the daemon becomes, else its own.
    func socketGID(becoming identity: ProcessIdentity?) throws -> UInt32? {
        guard let socketGroup else { return identity?.gid }
        do {
            return try ProcessIdentity.group(socketGroup, option: "--socket-group")
        } catch {
            throw ValidationError("\(error)")
        }
    }
}
