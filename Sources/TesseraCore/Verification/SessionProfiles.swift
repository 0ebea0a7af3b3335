#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What many sessions share, stored once for the ``SessionIndex``: an idle timeout and a list
/// of roles. A session's slot holds a 32-bit reference (the profile's offset here), so a slot
/// stays one cache line however many roles the session has.
///
/// An append-only arena in one mapping reserved up front (`MAP_NORESERVE`: only the bytes used
/// take memory), never moved and never freed while the index lives, so a reader may keep a
/// profile's bytes as long as the store is open. A profile is written before the slot that
/// refers to it is published with a release store, which orders the two for readers.
///
/// Profile layout: `u32 idle seconds | u16 length | the roles as stored (u8 count + (u8 len +
/// role)*)`. Only the writer (under the environment's write lock) appends; it remembers each
/// profile it wrote, so the arena grows with the distinct profiles, not with the sessions.
final class SessionProfiles: @unchecked Sendable {
    // @unchecked: `known` and `used` are touched by the one writer only; readers read bytes
    // published before the slots that refer to them.
    private struct Key: Hashable {
        let idleSeconds: UInt32
        let rawRoles: [UInt8]
    }

    private let base: UnsafeMutableRawPointer
    let reservedBytes: Int
    private var used = 0
    private var known: [Key: UInt32] = [:]
    /// The profile asked for last: consecutive sessions (a user's, a fill's run) mostly share one.
    private var last: (reference: UInt32, idleSeconds: UInt32)?

    /// Reserves `reservedBytes` of address space; `nil` when it cannot be mapped.
    init?(reservedBytes: Int = 64 << 20) {
        guard let memory = mmap(nil, reservedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
            memory != MAP_FAILED
        else { return nil }
        base = memory
        self.reservedBytes = reservedBytes
    }

    deinit { munmap(base, reservedBytes) }

    /// The reference of the profile (`idleSeconds`, `rawRoles`), appending it when new; `nil`
    /// when the arena is full or the roles are longer than a profile holds.
    func reference(idleSeconds: UInt32, rawRoles: UnsafeRawBufferPointer) -> UInt32? {
        if let last, last.idleSeconds == idleSeconds {
            let stored = view(last.reference).rawRoles
            if stored.count == rawRoles.count && (stored.count == 0 || memcmp(stored.baseAddress!, rawRoles.baseAddress!, stored.count) == 0) {
                return last.reference
            }
        }
        let key = Key(idleSeconds: idleSeconds, rawRoles: Array(rawRoles))
        if let known = known[key] {
            last = (known, idleSeconds)
            return known
        }
        let size = 6 + rawRoles.count
        guard rawRoles.count <= Int(UInt16.max), used + size <= reservedBytes, used <= Int(UInt32.max) else { return nil }
        let offset = used
        base.storeBytes(of: idleSeconds, toByteOffset: offset, as: UInt32.self)
        base.storeBytes(of: UInt16(rawRoles.count), toByteOffset: offset + 4, as: UInt16.self)
        if let roles = rawRoles.baseAddress { (base + offset + 6).copyMemory(from: roles, byteCount: rawRoles.count) }
        used += size
        known[key] = UInt32(offset)
        last = (UInt32(offset), idleSeconds)
        return UInt32(offset)
    }

    /// The profile at `reference` (reader side: no lock, no allocation).
    @inline(__always)
    func view(_ reference: UInt32) -> (idleSeconds: UInt32, rawRoles: UnsafeRawBufferPointer) {
        let profile = UnsafeRawPointer(base + Int(reference))
        let length = Int(profile.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
        return (profile.loadUnaligned(as: UInt32.self), UnsafeRawBufferPointer(start: profile + 6, count: length))
    }

    /// The bytes the profiles take.
    var usedBytes: Int { used }
}
