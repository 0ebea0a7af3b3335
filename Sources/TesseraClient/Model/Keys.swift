import Foundation
internal import TesseraProtocol

/// What a token key is for.
public enum KeyPurpose: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// The digests of token secrets: sessions, refresh tokens, validation codes, API keys.
    case tokenDigest = 1
    /// Signing JWT access tokens (Ed25519).
    case jwtSigning = 2
    /// Sealing secrets at rest (two-factor secrets).
    case secretSealing = 3

    /// `token-digest`, `jwt-signing` or `secret-sealing`.
    public var description: String {
        switch self {
        case .tokenDigest: "token-digest"
        case .jwtSigning: "jwt-signing"
        case .secretSealing: "secret-sealing"
        }
    }
}

/// Where a token key is in its life.
public enum KeyState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// New tokens are made under it.
    case active = 1
    /// Replaced by a rotation: what it made still verifies.
    case verifyOnly = 2
    /// Verifies nothing; its material is erased.
    case retired = 3

    /// `active`, `verify-only` or `retired`.
    public var description: String {
        switch self {
        case .active: "active"
        case .verifyOnly: "verify-only"
        case .retired: "retired"
        }
    }
}

/// A token key as the daemon lists it: never its material.
public struct TokenKey: Sendable, Equatable {
    /// The id tokens carry.
    public var id: UInt16
    public var purpose: KeyPurpose
    public var state: KeyState
    public var createdAt: Date
    /// When it became active.
    public var activatedAt: Date?
    /// When a newer key replaced it.
    public var verifyOnlySince: Date?
    /// When it was retired; for a verify-only key, when it will retire by itself (`nil` while an
    /// API key that never expires holds it).
    public var retiresAt: Date?

    init(_ info: KeyInfo) throws(TesseraClientError) {
        guard let purpose = KeyPurpose(rawValue: info.purpose), let state = KeyState(rawValue: info.state) else {
            throw .malformedReply("key \(info.id) has purpose \(info.purpose) and state \(info.state)")
        }
        id = info.id
        self.purpose = purpose
        self.state = state
        createdAt = Date(milliseconds: info.createdAt)
        activatedAt = info.activatedAt.map(Date.init(milliseconds:))
        verifyOnlySince = info.verifyOnlySince.map(Date.init(milliseconds:))
        retiresAt = info.retiresAt.map(Date.init(milliseconds:))
    }
}

/// What ``TesseraClient/hello(clientName:)`` learns: the server's version and limits.
public struct ServerHello: Sendable, Equatable {
    public var protocolVersion: UInt16
    public var serverName: String
    /// The largest request frame the server accepts (replies are not bounded by it).
    public var maximumFrameLength: UInt32
    /// Slow requests one connection may have in flight.
    public var maximumInFlight: UInt32
    /// Password checks that may wait for a hashing thread, server-wide.
    public var maximumQueuedHashes: UInt32?

    init(_ reply: HelloResponse) {
        protocolVersion = reply.protocolVersion
        serverName = reply.serverName
        maximumFrameLength = reply.maximumFrameLength
        maximumInFlight = reply.maximumInFlight
        maximumQueuedHashes = reply.maximumQueuedHashes
    }
}
