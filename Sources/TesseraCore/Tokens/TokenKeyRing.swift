import LMDBKit
import SodiumKit

/// A key for the keyed digest of token secrets.
public struct TokenKey: Sendable {
    /// The id written into every token made under this key.
    public var id: UInt16
    /// 32 random bytes, inline (no heap storage, so copying a key costs no reference counting
    /// on the verify path).
    var material: (UInt64, UInt64, UInt64, UInt64)

    /// The key bytes as an array.
    var materialBytes: [UInt8] {
        var copy = material
        return Swift.withUnsafeBytes(of: &copy) { Array($0) }
    }

    /// Calls `body` with the 32 key bytes.
    @inline(__always)
    func withMaterial<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var copy = material
        return Swift.withUnsafeBytes(of: &copy, body)
    }
    public var createdAt: Timestamp
    public var state: State

    /// Where a key is in its life.
    public enum State: UInt8, Sendable {
        /// New tokens are made under it; at most one key is active.
        case active = 1
        /// Tokens made under it still verify; no new ones are made.
        case verifyOnly = 2
    }

    static let recordVersion: UInt8 = 1

    /// Stored layout: `u8 version=1 | u8 state | i64 created_at | 32 bytes key`.
    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: Self.recordVersion)
        writer.write(state.rawValue)
        writer.write(createdAt)
        writer.write(raw: materialBytes)
        return writer.bytes
    }

    init(id: UInt16, material: [UInt8], createdAt: Timestamp, state: State) {
        precondition(material.count == 32)
        self.id = id
        var inline = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        Swift.withUnsafeMutableBytes(of: &inline) { $0.copyBytes(from: material) }
        self.material = inline
        self.createdAt = createdAt
        self.state = state
    }

    init(id: UInt16, decoding bytes: UnsafeRawBufferPointer) throws {
        var reader = RecordReader(bytes)
        _ = try reader.read(UInt8.self)
        self.id = id
        state = State(rawValue: try reader.read()) ?? .verifyOnly
        createdAt = try reader.read()
        var inline = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let bytes = try reader.read(raw: 32)
        Swift.withUnsafeMutableBytes(of: &inline) { $0.copyMemory(from: bytes) }
        material = inline
    }
}

/// The token keys in use: one active key for new tokens, older ones for verifying.
public struct TokenKeyRing: Sendable {
    public private(set) var keys: [TokenKey]
    /// The key new tokens are made under, kept apart so verify finds it without touching the array.
    public let active: TokenKey

    init(keys: [TokenKey]) {
        self.keys = keys
        active = keys.first { $0.state == .active }!
    }

    @inline(__always)
    func key(id: UInt16) -> TokenKey? {
        if active.id == id { return active }
        for key in keys where key.id == id { return key }
        return nil
    }

    /// Loads the ring from `keys`, creating the first key when there is none.
    static func loadOrCreate(in txn: WriteTransaction, database: Database, now: Timestamp) throws -> TokenKeyRing {
        var keys: [TokenKey] = []
        try txn.forEach(in: database) { key, value in
            let id = UInt16(key[0]) << 8 | UInt16(key[1])
            keys.append(try TokenKey(id: id, decoding: value))
            return true
        }
        if !keys.contains(where: { $0.state == .active }) {
            let id = (keys.map(\.id).max() ?? 0) + 1
            let key = TokenKey(id: id, material: SecureRandom.bytes(32), createdAt: now, state: .active)
            try txn.put(key.encoded(), forKey: [UInt8(id >> 8), UInt8(id & 0xff)], in: database)
            keys.append(key)
        }
        return TokenKeyRing(keys: keys)
    }
}

extension TokenKey {
    /// The key bytes, for the in-process benchmark that computes the same digest directly.
    /// Not for application use: the key must never leave the daemon.
    public var materialForBenchmarks: [UInt8] { materialBytes }
}
