import LMDBKit
import Logging
import SodiumKit

/// The token keys (`token_keys`: key id (u16 BE) → ``TokenKey``, the key sealed under the
/// master key), the ring's generation (`meta`: `key_ring_generation`) and the master key's
/// check (`meta`: `master_key_check`). Every change is one transaction, so a crash at any
/// moment leaves exactly one active key.
extension TesseraStore {
    static let keyRingGenerationKey = Array("key_ring_generation".utf8)
    static let masterKeyCheckKey = Array("master_key_check".utf8)

    /// The ring as stored, with `master`, creating the first key when there is none (at open,
    /// before the store exists). Keys written before sealing existed are sealed now. Throws
    /// ``KeyRingError/wrongMasterKey`` when the keys were sealed under another master key.
    static func loadKeyRing(
        tokenKeys: Database, meta: Database, master: MasterKey, in txn: WriteTransaction, now: Timestamp
    ) throws -> TokenKeyRing {
        if let stored = try txn.value(forKey: masterKeyCheckKey, in: meta) {
            guard stored == master.check else { throw KeyRingError.wrongMasterKey }
        } else {
            try txn.put(master.check, forKey: masterKeyCheckKey, in: meta)
        }
        var keys: [TokenKey] = []
        var plaintext = false
        try txn.forEach(in: tokenKeys) { key, value in
            guard key.count == 2 else { return true }
            plaintext = plaintext || TokenKey.isPlaintext(value)
            keys.append(try TokenKey(id: UInt16(key[0]) << 8 | UInt16(key[1]), decoding: value, master: master))
            return true
        }
        if plaintext { for key in keys { try putKey(key, tokenKeys, master: master, in: txn) } }
        for purpose in TokenKey.Purpose.allCases where !keys.contains(where: { $0.state == .active && $0.purpose == purpose }) {
            let key = TokenKey(
                id: (keys.map(\.id).max() ?? 0) + 1, purpose: purpose, material: SecureRandom.bytes(32), createdAt: now, state: .active)
            try putKey(key, tokenKeys, master: master, in: txn)
            keys.append(key)
        }
        return TokenKeyRing(keys: keys, generation: try keyRingGeneration(meta, in: txn))
    }

    /// Whether the data directory at `directory` already holds keys sealed under a master key
    /// (so a missing master key file is an error, never a reason to make a new key).
    package static func isSealed(directory: String) throws -> Bool {
        guard access(directory + "/data.mdb", F_OK) == 0 else { return false }
        let environment = try Environment(path: directory)
        defer { environment.close() }
        let meta = try environment.openDatabases(["meta"])[0]
        return try environment.read { txn in try txn.value(forKey: masterKeyCheckKey, in: meta) != nil }
    }

    /// The ring as `txn` sees it: the ring in use when no change to the keys has committed since
    /// it was installed (the usual case: one read of the generation), else the ring as stored.
    /// Whatever seals or opens a secret inside a transaction takes its key from here, not from
    /// ``keyRing``: a rotation earlier in the same group commit, or committed and not yet
    /// installed, may have re-sealed every secret under a key the ring in use does not have yet.
    func keyRing(in txn: some ReadableTransaction) throws -> TokenKeyRing {
        let current = keyRing
        let generation = try keyRingGeneration(in: txn)
        guard generation != current.generation else { return current }
        return TokenKeyRing(keys: try storedKeys(try masterKey(in: txn), in: txn), generation: generation)
    }

    /// Makes a new key active for `purpose`; that purpose's active key becomes verify-only until
    /// `now + verifyFor`. A new secret-sealing key re-seals every sealed secret in the same
    /// transaction. Returns the new ring.
    func rotateKeys(_ purpose: TokenKey.Purpose, now: Timestamp, verifyFor: Int64, in txn: WriteTransaction) throws -> TokenKeyRing {
        let master = try masterKey(in: txn)
        var keys = try storedKeys(master, in: txn)
        guard let newest = keys.map(\.id).max(), newest < UInt16.max else {
            throw AuthError.internal("every key id is used; the ring cannot rotate")
        }
        for index in keys.indices where keys[index].state == .active && keys[index].purpose == purpose {
            keys[index].state = .verifyOnly
            keys[index].verifyOnlySince = now
            keys[index].retiresAt = now + verifyFor
            try Self.putKey(keys[index], tokenKeys, master: master, in: txn)
        }
        let fresh = TokenKey(id: newest + 1, purpose: purpose, material: SecureRandom.bytes(32), createdAt: now, state: .active)
        try Self.putKey(fresh, tokenKeys, master: master, in: txn)
        if purpose == .secretSealing { try resealTwoFactorSecrets(from: keys, to: fresh, in: txn) }
        keys.append(fresh)
        return TokenKeyRing(keys: keys, generation: try advanceKeyRingGeneration(in: txn))
    }

    /// Retires key `id` at once (an active one is first replaced by a new key of its purpose,
    /// verify-only for `verifyFor(purpose)`). Returns the new ring, or `nil` when there is no
    /// such key.
    func retireKey(
        _ id: UInt16, now: Timestamp, verifyFor: (TokenKey.Purpose) -> Int64, in txn: WriteTransaction
    ) throws -> TokenKeyRing? {
        let master = try masterKey(in: txn)
        guard let key = try storedKeys(master, in: txn).first(where: { $0.id == id }) else { return nil }
        if key.state == .active { _ = try rotateKeys(key.purpose, now: now, verifyFor: verifyFor(key.purpose), in: txn) }
        guard key.state != .retired else { return TokenKeyRing(keys: try storedKeys(master, in: txn), generation: try keyRingGeneration(in: txn)) }
        try resealBeforeRetiring([key], master: master, in: txn)
        try Self.putKey(key.retired(at: now), tokenKeys, master: master, in: txn)
        return TokenKeyRing(keys: try storedKeys(master, in: txn), generation: try advanceKeyRingGeneration(in: txn))
    }

    /// Retires every verify-only key whose time has come. A digest key that a live API key was
    /// made under waits until the last such key expires or is revoked (API keys can outlive every
    /// session; retiring the key by hand refuses them at once). Returns the new ring and how many
    /// keys retired, or `nil` when none was due.
    func retireDueKeys(now: Timestamp, in txn: WriteTransaction) throws -> (ring: TokenKeyRing, retired: Int)? {
        let master = try masterKey(in: txn)
        let due = try storedKeys(master, in: txn).filter { key in
            guard key.state == .verifyOnly, key.retiresAt <= now else { return false }
            guard key.purpose == .tokenDigest else { return true }
            return try !hasLiveAPIKeys(digestKey: key.id, at: now, in: txn)
        }
        guard !due.isEmpty else { return nil }
        try resealBeforeRetiring(due, master: master, in: txn)
        for key in due { try Self.putKey(key.retired(at: now), tokenKeys, master: master, in: txn) }
        return (TokenKeyRing(keys: try storedKeys(master, in: txn), generation: try advanceKeyRingGeneration(in: txn)), due.count)
    }

    /// No sealing key retires while a record still names it: a second factor sealed under one
    /// of `retiring` is re-sealed under the active sealing key first (a rotation re-seals every
    /// record it sees, so this finds one only if a write sealed under a key the rotation had
    /// already replaced).
    private func resealBeforeRetiring(_ retiring: [TokenKey], master: MasterKey, in txn: WriteTransaction) throws {
        guard retiring.contains(where: { $0.purpose == .secretSealing }) else { return }
        let keys = try storedKeys(master, in: txn)
        guard let active = keys.first(where: { $0.state == .active && $0.purpose == .secretSealing }) else { return }
        let resealed = try resealTwoFactorSecrets(from: keys, to: active, in: txn)
        if resealed > 0 {
            logger.warning("second factors re-sealed before their sealing key retired", metadata: ["records": "\(resealed)"])
        }
    }

    /// Seals every key under `new` instead, and records its check: from this commit on, only
    /// `new` opens the ring. Returns how many keys were sealed.
    func resealKeys(under new: MasterKey, in txn: WriteTransaction) throws -> Int {
        let keys = try storedKeys(try masterKey(in: txn), in: txn)
        for key in keys { try Self.putKey(key, tokenKeys, master: new, in: txn) }
        try txn.put(new.check, forKey: Self.masterKeyCheckKey, in: meta)
        return keys.filter { $0.state != .retired }.count
    }

    /// The master key the database names (by its check) among those the store knows.
    private func masterKey(in txn: some ReadableTransaction) throws -> MasterKey {
        guard let check = try txn.value(forKey: Self.masterKeyCheckKey, in: meta), let master = keys.master(check: check) else {
            throw KeyRingError.wrongMasterKey
        }
        return master
    }

    private func storedKeys(_ master: MasterKey, in txn: some ReadableTransaction) throws -> [TokenKey] {
        var keys: [TokenKey] = []
        try txn.forEach(in: tokenKeys) { key, value in
            guard key.count == 2 else { return true }
            keys.append(try TokenKey(id: UInt16(key[0]) << 8 | UInt16(key[1]), decoding: value, master: master))
            return true
        }
        return keys
    }

    private func keyRingGeneration(in txn: some ReadableTransaction) throws -> UInt64 {
        try Self.keyRingGeneration(meta, in: txn)
    }

    private func advanceKeyRingGeneration(in txn: WriteTransaction) throws -> UInt64 {
        let next = try keyRingGeneration(in: txn) + 1
        try txn.put(Self.key(next), forKey: Self.keyRingGenerationKey, in: meta)
        return next
    }

    private static func putKey(_ key: TokenKey, _ tokenKeys: Database, master: MasterKey, in txn: WriteTransaction) throws {
        try txn.put(key.encoded(sealedWith: master), forKey: [UInt8(key.id >> 8), UInt8(key.id & 0xff)], in: tokenKeys)
    }

    private static func keyRingGeneration(_ meta: Database, in txn: some ReadableTransaction) throws -> UInt64 {
        try keyRingGenerationKey.withUnsafeBytes { name in
            try txn.withValue(forKey: name, in: meta) { $0.count == 8 ? UInt64(bigEndian: $0.loadUnaligned(as: UInt64.self)) : 0 }
        } ?? 0
    }
}

#if canImport(Glibc)
import Glibc
#endif
