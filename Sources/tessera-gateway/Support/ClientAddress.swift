import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Each request's context: Hummingbird's, with the peer's address and the client's address the
/// gateway passes to tesserad as `client_ip` (for its per-source throttle and the session's
/// record).
struct GatewayContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    let remoteAddress: SocketAddress?
    /// Set by ``ClientAddressMiddleware``: the client as far as it can be trusted.
    var clientIP: String?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        clientIP = remoteAddress?.ipAddress
    }
}

/// An address range, `ADDRESS/BITS` or a single address.
struct AddressRange: Equatable, Sendable {
    let bytes: [UInt8]
    let prefixLength: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = Self.bytes(of: first) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, (0...bytes.count * 8).contains(length) else { return nil }
        self.bytes = bytes
        prefixLength = length
    }

    func contains(_ address: String) -> Bool {
        guard let other = Self.bytes(of: address), other.count == bytes.count else { return false }
        var remaining = prefixLength
        for (mine, theirs) in zip(bytes, other) where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            guard mine & mask == theirs & mask else { return false }
            remaining -= 8
        }
        return true
    }

    /// The address's bytes: 4 for IPv4 (an IPv4-mapped IPv6 address too), 16 for IPv6.
    static func bytes(of address: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, address, &buffer) == 1 { return Array(buffer[0..<4]) }
        guard inet_pton(AF_INET6, address, &buffer) == 1 else { return nil }
        if buffer[0..<10].allSatisfy({ $0 == 0 }) && buffer[10] == 0xFF && buffer[11] == 0xFF { return Array(buffer[12...]) }
        return buffer
    }
}

/// Finds the client's address: the peer's, unless the peer is a trusted proxy; then the
/// rightmost address of the client-address header (every line of it, in order) that is not a
/// trusted proxy, which is the last hop a trusted proxy saw. A header from an untrusted peer is
/// ignored, so a client cannot name its own address.
struct ClientAddressMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let trustedProxies: [AddressRange]
    let header: HTTPField.Name

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientIP = clientIP(peer: context.remoteAddress?.ipAddress, headerValues: request.headers[values: header])
        return try await next(request, context)
    }

    func clientIP(peer: String?, headerValues: [String]) -> String? {
        guard let peer, isTrusted(peer) else { return peer }
        let hops = headerValues.flatMap { $0.split(separator: ",") }.map { Credentials.trimmed($0.utf8) ?? "" }
        for hop in hops.reversed() {
            guard AddressRange.bytes(of: hop) != nil else { return peer }  // a hop that is no address: trust nothing before it
            if !isTrusted(hop) { return hop }
        }
        return hops.first ?? peer
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
