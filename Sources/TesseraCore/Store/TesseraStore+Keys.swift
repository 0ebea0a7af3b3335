import LMDBKit
import SodiumKit

/// The token keys (`token_keys`: key id (u16 BE) → ``TokenKey``) and the ring's generation
/// (`meta`: `key_ring_generation`). Every change is one transaction, so a crash at any moment
/// leaves exactly one active key.
extension TesseraStore {
    static let keyRingGenerationKey = Array("key_ring_generation".utf8)

    /// The ring as stored in `tokenKeys` and `meta`, creating the first key when there is none
    /// (at open, before the store exists).
    static func loadKeyRing(tokenKeys: Database, meta: Database, in txn: WriteTransaction, now: Timestamp) throws -> TokenKeyRing {
        var keys = try storedKeys(tokenKeys, in: txn)
        if !keys.contains(where: { $0.state == .active }) {
            let key = TokenKey(id: (keys.map(\.id).max() ?? 0) + 1, material: SecureRandom.bytes(32), createdAt: now, state: .active)
            try putKey(key, tokenKeys, in: txn)
            keys.append(key)
        }
        return TokenKeyRing(keys: keys, generation: try keyRingGeneration(meta, in: txn))
    }

    /// Makes a new key active; the active one becomes verify-only until `now + verifyFor`.
    /// Returns the new ring.
    func rotateKeys(now: Timestamp, verifyFor: Int64, in txn: WriteTransaction) throws -> TokenKeyRing {
        var keys = try storedKeys(in: txn)
        guard let newest = keys.map(\.id).max(), newest < UInt16.max else {
            throw AuthError.internal("every key id is used; the ring cannot rotate")
        }
        for index in keys.indices where keys[index].state == .active {
            keys[index].state = .verifyOnly
            keys[index].verifyOnlySince = now
            keys[index].retiresAt = now + verifyFor
            try putKey(keys[index], in: txn)
        }
        let fresh = TokenKey(id: newest + 1, material: SecureRandom.bytes(32), createdAt: now, state: .active)
        try putKey(fresh, in: txn)
        keys.append(fresh)
        return TokenKeyRing(keys: keys, generation: try advanceKeyRingGeneration(in: txn))
    }

    /// Retires key `id` at once (the active one is first replaced by a new key). Returns the
    /// new ring, or `nil` when there is no such key.
    func retireKey(_ id: UInt16, now: Timestamp, verifyFor: Int64, in txn: WriteTransaction) throws -> TokenKeyRing? {
        guard let key = try storedKeys(in: txn).first(where: { $0.id == id }) else { return nil }
        if key.state == .active { _ = try rotateKeys(now: now, verifyFor: verifyFor, in: txn) }
        guard key.state != .retired else { return TokenKeyRing(keys: try storedKeys(in: txn), generation: try keyRingGeneration(in: txn)) }
        try putKey(key.retired(at: now), in: txn)
        return TokenKeyRing(keys: try storedKeys(in: txn), generation: try advanceKeyRingGeneration(in: txn))
    }

    /// Retires every verify-only key whose time has come. Returns the new ring and how many
    /// keys retired, or `nil` when none was due.
    func retireDueKeys(now: Timestamp, in txn: WriteTransaction) throws -> (ring: TokenKeyRing, retired: Int)? {
        let due = try storedKeys(in: txn).filter { $0.state == .verifyOnly && $0.retiresAt <= now }
        guard !due.isEmpty else { return nil }
        for key in due { try putKey(key.retired(at: now), in: txn) }
        return (TokenKeyRing(keys: try storedKeys(in: txn), generation: try advanceKeyRingGeneration(in: txn)), due.count)
    }

    private func storedKeys(in txn: some ReadableTransaction) throws -> [TokenKey] {
        try Self.storedKeys(tokenKeys, in: txn)
    }

    private func putKey(_ key: TokenKey, in txn: WriteTransaction) throws {
        try Self.putKey(key, tokenKeys, in: txn)
    }

    private func keyRingGeneration(in txn: some ReadableTransaction) throws -> UInt64 {
        try Self.keyRingGeneration(meta, in: txn)
    }

    private func advanceKeyRingGeneration(in txn: WriteTransaction) throws -> UInt64 {
        let next = try keyRingGeneration(in: txn) + 1
        try txn.put(Self.key(next), forKey: Self.keyRingGenerationKey, in: meta)
        return next
    }

    private static func storedKeys(_ tokenKeys: Database, in txn: some ReadableTransaction) throws -> [TokenKey] {
        var keys: [TokenKey] = []
        try txn.forEach(in: tokenKeys) { key, value in
            guard key.count == 2 else { return true }
            keys.append(try TokenKey(id: UInt16(key[0]) << 8 | UInt16(key[1]), decoding: value))
            return true
        }
        return keys
    }

    private static func putKey(_ key: TokenKey, _ tokenKeys: Database, in txn: WriteTransaction) throws {
        try txn.put(key.encoded(), forKey: [UInt8(key.id >> 8), UInt8(key.id & 0xff)], in: tokenKeys)
    }

    private static func keyRingGeneration(_ meta: Database, in txn: some ReadableTransaction) throws -> UInt64 {
        try keyRingGenerationKey.withUnsafeBytes { name in
            try txn.withValue(forKey: name, in: meta) { $0.count == 8 ? UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) : 0 }
        } ?? 0
    }
}
