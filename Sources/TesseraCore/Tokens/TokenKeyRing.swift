import LMDBKit
import Locking
import SodiumKit
import Synchronization

/// A key of the ring: for the keyed digest of token secrets (sessions, refresh tokens,
/// validation codes), for signing JWTs (Ed25519; the material is the seed), or for sealing
/// secrets the daemon must read back (two-factor secrets).
@usableFromInline
package struct TokenKey: Sendable {
    /// The id written into every token made under this key (a JWT's `kid`). Never reused,
    /// across purposes.
    package var id: UInt16
    package var purpose: Purpose
    /// How a digest key turns a token secret into the stored digest. Keys made since the
    /// one-block construction exists use it; older keys keep theirs, so their tokens verify
    /// until the key retires.
    package var construction: DigestConstruction = .oneBlockBLAKE2b
    /// 32 random bytes, inline (no heap storage, so copying a key costs no reference counting
    /// on the verify path). Zero once the key is retired.
    var material: (UInt64, UInt64, UInt64, UInt64)
    package var createdAt: Timestamp
    package var state: State
    /// When it became the active key.
    package var activatedAt: Timestamp = 0
    /// When a newer key replaced it (0: never).
    package var verifyOnlySince: Timestamp = 0
    /// When it retires (by itself once verify-only; at once when retired by hand); 0: not scheduled.
    package var retiresAt: Timestamp = 0

    /// What a key is for.
    package enum Purpose: UInt8, Sendable, Equatable, CaseIterable {
        /// The keyed BLAKE2b digest of token secrets.
        case tokenDigest = 1
        /// Signing JWT access tokens (Ed25519).
        case jwtSigning = 2
        /// Sealing secrets at rest that the daemon reads back (TOTP secrets and recovery-code
        /// digests; XSalsa20-Poly1305). A rotation re-seals every one under the new key in the
        /// same transaction, so the replaced key seals nothing and retires at once.
        case secretSealing = 3
    }

    /// A digest key's construction (Protocol/PROTOCOL.md section 10).
    package enum DigestConstruction: UInt8, Sendable, Equatable {
        /// BLAKE2b-256 keyed with the key (two compressions): keys made before version 3 records.
        case keyedBLAKE2b = 1
        /// BLAKE2b-256 of key ‖ secret (one compression).
        case oneBlockBLAKE2b = 2
    }

    /// Writes the digest of a 32-byte token secret under this (digest) key.
    @inline(__always)
    func digest(secret: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        withMaterial { key in
            switch construction {
            case .oneBlockBLAKE2b: KeyedHash.blake2bOneBlock(secret, key: key, into: output)
            case .keyedBLAKE2b: KeyedHash.blake2b(secret, key: key, into: output)
            }
        }
    }

    /// Where a key is in its life.
    package enum State: UInt8, Sendable, Equatable {
        /// New tokens are made under it; exactly one key is active.
        case active = 1
        /// Tokens made under it still verify; no new ones are made. It retires by itself once
        /// nothing it vouched for can still be alive.
        case verifyOnly = 2
        /// Nothing made under it verifies any more; its material is gone.
        case retired = 3
    }

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

    /// Whether tokens made under this key are accepted.
    var verifies: Bool { state != .retired }

    static let recordVersion: UInt8 = 3

    /// Stored layout, version 3: `u8 version=3 | u8 state | u8 purpose | u8 construction |
    /// i64 created_at | i64 activated_at | i64 verify_only_since | i64 retires_at | u8 len + the
    /// key sealed under the master key` (nonce, ciphertext, tag: 72 bytes; 0 once retired).
    /// Version 2 is version 3 without the construction byte (keyed BLAKE2b). Version 1 held a
    /// digest key in plaintext (`u8 version=1 | u8 state | i64 created_at | 32 bytes key`, then
    /// the three times); it is read, and sealed when the ring is loaded.
    func encoded(sealedWith master: MasterKey) -> [UInt8] {
        let sealed = state == .retired ? [] : master.seal(materialBytes)
        var writer = RecordWriter(version: Self.recordVersion, capacity: 37 + sealed.count)
        writer.write(state.rawValue)
        writer.write(purpose.rawValue)
        writer.write(construction.rawValue)
        writer.write(createdAt)
        writer.write(activatedAt)
        writer.write(verifyOnlySince)
        writer.write(retiresAt)
        writer.write(UInt8(sealed.count))
        writer.write(raw: sealed)
        return writer.bytes
    }

    init(id: UInt16, purpose: Purpose = .tokenDigest, material: [UInt8], createdAt: Timestamp, state: State) {
        precondition(material.count == 32)
        self.id = id
        self.purpose = purpose
        var inline = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        Swift.withUnsafeMutableBytes(of: &inline) { $0.copyBytes(from: material) }
        self.material = inline
        self.createdAt = createdAt
        self.state = state
        if state == .active { activatedAt = createdAt }
    }

    /// Reads a stored key, unsealing its material with `master`. Throws
    /// ``KeyRingError/cannotUnseal(_:)`` when the material was sealed under another key.
    init(id: UInt16, decoding bytes: UnsafeRawBufferPointer, master: MasterKey) throws {
        var reader = RecordReader(bytes)
        let version = try reader.read(UInt8.self)
        self.id = id
        state = State(rawValue: try reader.read()) ?? .retired
        purpose = version == 1 ? .tokenDigest : Purpose(rawValue: try reader.read()) ?? .tokenDigest
        if version >= 3 {
            guard let construction = DigestConstruction(rawValue: try reader.read()) else { throw RecordError.unknownVersion(version) }
            self.construction = construction
        } else {
            construction = .keyedBLAKE2b
        }
        createdAt = try reader.read()
        var inline = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        if version == 1 {
            let plain = try reader.read(raw: 32)
            Swift.withUnsafeMutableBytes(of: &inline) { $0.copyMemory(from: plain) }
            material = inline
            activatedAt = reader.isAtEnd ? (state == .active ? createdAt : 0) : try reader.read()
            verifyOnlySince = reader.isAtEnd ? 0 : try reader.read()
            retiresAt = reader.isAtEnd ? 0 : try reader.read()
            return
        }
        activatedAt = try reader.read()
        verifyOnlySince = try reader.read()
        retiresAt = try reader.read()
        let sealed = Array(try reader.read(raw: Int(try reader.read(UInt8.self))))
        if !sealed.isEmpty {
            guard let plain = master.open(sealed), plain.count == 32 else { throw KeyRingError.cannotUnseal(id) }
            Swift.withUnsafeMutableBytes(of: &inline) { $0.copyBytes(from: plain) }
        }
        material = inline
    }

    /// Whether a stored record holds its key in plaintext (written before keys were sealed).
    static func isPlaintext(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.first == 1
    }

    /// This key, retired at `now`: its material is wiped.
    func retired(at now: Timestamp) -> TokenKey {
        var key = self
        key.state = .retired
        key.material = (0, 0, 0, 0)
        key.retiresAt = now
        return key
    }
}

/// Why the ring could not be loaded.
package enum KeyRingError: Error, Equatable, CustomStringConvertible {
    /// The data directory's keys were sealed under another master key.
    case wrongMasterKey
    /// Key `id` does not open with the master key (the record is damaged).
    case cannotUnseal(UInt16)

    package var description: String {
        switch self {
        case .wrongMasterKey:
            "the data directory's keys were sealed under another master key (after 'tessera keys rotate-master', point --master-key at the new file)"
        case .cannotUnseal(let id): "token key \(id) does not open with the master key; its record is damaged"
        }
    }
}

/// The keys: per purpose one active key for new tokens, verify-only ones for the tokens made
/// under them, retired ones (kept so their ids are never reused). Immutable: a rotation makes a
/// new ring, which ``KeyRingHolder`` publishes.
@usableFromInline
package struct TokenKeyRing: Sendable {
    /// Every key, by id.
    package let keys: [TokenKey]
    /// The digest key new tokens are made under, kept apart so verify finds it without
    /// touching the array.
    package let active: TokenKey
    /// The key new JWTs are signed with.
    package let activeSigning: TokenKey
    /// The key secrets at rest are sealed with.
    package let activeSealing: TokenKey
    /// Moves on with every change, so a slower writer cannot put back an older ring.
    let generation: UInt64

    init(keys: [TokenKey], generation: UInt64) {
        self.keys = keys.sorted { $0.id < $1.id }
        active = keys.first { $0.state == .active && $0.purpose == .tokenDigest }!
        activeSigning = keys.first { $0.state == .active && $0.purpose == .jwtSigning }!
        activeSealing = keys.first { $0.state == .active && $0.purpose == .secretSealing }!
        self.generation = generation
    }

    /// The digest key tokens naming `id` are checked with; `nil` for an unknown or retired key,
    /// or one for another purpose.
    @usableFromInline @inline(__always)
    func key(id: UInt16) -> TokenKey? {
        if active.id == id { return active }
        for key in keys where key.id == id { return key.verifies && key.purpose == .tokenDigest ? key : nil }
        return nil
    }

    /// The signing key of a JWT whose `kid` is `id`: active or verify-only.
    func signingKey(id: UInt16) -> TokenKey? {
        keys.first { $0.id == id && $0.purpose == .jwtSigning && $0.verifies }
    }

    /// The active key of `purpose`.
    func active(_ purpose: TokenKey.Purpose) -> TokenKey {
        switch purpose {
        case .tokenDigest: active
        case .jwtSigning: activeSigning
        case .secretSealing: activeSealing
        }
    }

    /// The sealing key whose id is `id`, while it is not retired.
    func sealingKey(id: UInt16) -> TokenKey? {
        keys.first { $0.id == id && $0.purpose == .secretSealing && $0.verifies }
    }

    /// The digest keys whose tokens still verify, the active one first.
    var verifying: [TokenKey] {
        [active] + keys.filter { $0.state == .verifyOnly && $0.purpose == .tokenDigest }
    }

    /// The signing keys a JWT may still be verified with (the JWKS), the active one first.
    var signing: [TokenKey] {
        [activeSigning] + keys.filter { $0.state == .verifyOnly && $0.purpose == .jwtSigning }
    }
}

/// The ring in use, swapped whole when keys change, and the master keys the store knows.
///
/// Verify reads the ring with one atomic load and no reference counting: each ring lives in
/// its own allocation, published with a release store. A replaced ring is never freed (a reader
/// may still be looking at it); rings change a few times a year, by rotation, so what is kept
/// is a few hundred bytes a rotation.
///
/// The master keys: the one the keys are sealed under, and after `rotate-master` the new one.
/// A transaction seals with the one whose check the database holds, so a rotation racing a
/// re-sealing never seals under a key the file no longer names.
@usableFromInline final class KeyRingHolder: @unchecked Sendable {
    // @unchecked: `published` points at rings that are immutable once published and never freed;
    // `install` is serialized by `installing`.
    private let published: Atomic<UnsafeMutablePointer<TokenKeyRing>>
    private let installing = Locked(())
    private let masters: Locked<[MasterKey]>

    init(_ ring: TokenKeyRing, master: MasterKey) {
        published = Atomic(Self.allocate(ring))
        masters = Locked([master])
    }

    /// The ring in use now (a copy: for everything but the verify path).
    @usableFromInline var current: TokenKeyRing { published.load(ordering: .acquiring).pointee }

    /// The key tokens naming `id` are checked with, from the ring in use; no copy of the ring.
    @usableFromInline @inline(__always)
    func key(id: UInt16) -> TokenKey? {
        published.load(ordering: .acquiring).pointee.key(id: id)
    }

    /// Installs `newer` unless a later ring is already in place.
    func install(_ newer: TokenKeyRing) {
        installing.withLock { _ in
            guard newer.generation > published.load(ordering: .acquiring).pointee.generation else { return }
            published.store(Self.allocate(newer), ordering: .releasing)
        }
    }

    private static func allocate(_ ring: TokenKeyRing) -> UnsafeMutablePointer<TokenKeyRing> {
        let pointer = UnsafeMutablePointer<TokenKeyRing>.allocate(capacity: 1)
        pointer.initialize(to: ring)
        return pointer
    }

    /// The known master key whose check is `check`.
    func master(check: [UInt8]) -> MasterKey? {
        masters.withLock { keys in keys.first { $0.check == check } }
    }

    /// Adds a master key (before re-sealing under it).
    func learn(_ master: MasterKey) {
        masters.withLock { $0.insert(master, at: 0) }
    }
}

extension TokenKey {
    /// The key bytes, for the in-process benchmark that computes the same digest directly.
    /// Not for application use: the key must never leave the daemon.
    package var materialForBenchmarks: [UInt8] { materialBytes }
}
