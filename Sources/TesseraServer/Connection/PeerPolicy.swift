import TesseraProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a peer may do, decided once at accept from its credentials.
package enum PeerClass: String, Sendable, Equatable {
    /// Every operation: operators and the daemon's own tools.
    case admin
    /// What a web process needs: the operations whose ``TesseraProtocol/Access`` is not `admin`.
    case application
    /// Nothing: answered with one `forbidden` frame and closed.
    case refused

    /// Whether this class may use `opcode` at all (its declared ``TesseraProtocol/Access``). The
    /// user a request acts on is checked when it is answered (`Authorization`).
    @inline(__always)
    package func permits(_ opcode: Opcode) -> Bool {
        switch self {
        case .admin: true
        case .application: opcode.admitsApplications
        case .refused: false
        }
    }
}

/// Who is admin, who is an application, configured by uid and gid lists.
///
/// - admin: root, the daemon's own uid, `adminUIDs`, and members of `adminGIDs`;
/// - application: `applicationUIDs` and members of `applicationGIDs`; when both lists are empty,
///   members of the socket's group (the single-host default: the web processes' user is put in
///   the daemon's group);
/// - everyone else is refused.
package struct PeerPolicy: Sendable, Equatable {
    package var adminUIDs: Set<UInt32> = []
    package var adminGIDs: Set<UInt32> = []
    package var applicationUIDs: Set<UInt32> = []
    package var applicationGIDs: Set<UInt32> = []
    /// The daemon's own uid: always admin.
    package var daemonUID: UInt32 = getuid()
    /// The group the socket file belongs to (the daemon's group).
    package var socketGID: UInt32 = getegid()

    package init() {}

    package func classify(_ peer: PeerCredentials) -> PeerClass {
        if peer.uid == 0 || peer.uid == daemonUID || adminUIDs.contains(peer.uid) || !peer.groups.isDisjoint(with: adminGIDs) {
            return .admin
        }
        if applicationUIDs.contains(peer.uid) || !peer.groups.isDisjoint(with: applicationGIDs) {
            return .application
        }
        if applicationUIDs.isEmpty && applicationGIDs.isEmpty && peer.groups.contains(socketGID) {
            return .application
        }
        return .refused
    }
}
