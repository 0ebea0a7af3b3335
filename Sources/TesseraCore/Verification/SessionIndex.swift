import Synchronization
import TesseraModel

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The live sessions in memory: session id → what VERIFY checks and answers. VERIFY reads it
/// instead of descending the `sessions` B-tree.
///
/// LMDB stays the store of record and the only durable copy. This index follows it exactly:
/// every session write registers its change with ``WriteTransaction/afterCommit(_:)``, so the
/// change reaches the index after the commit and before anything is acknowledged, in commit
/// order, and never for a write that was undone. A logout acknowledged on one connection is
/// therefore refused by the next verify on any other.
///
/// **Layout.** Open addressing with linear probing over one anonymous mapping; a slot is one
/// 64-byte cache line of eight words:
/// ```
/// 0 control: sequence (low 32 bits, odd while the slot is written) | profile (high 32 bits)
/// 1 session id, high      2 session id, low           (both 0: an empty slot)
/// 3 digest bytes 0-7      4 digest bytes 8-15         (the first 128 bits of the stored digest)
/// 5 user id               6 expires_at (low 48 bits) | key id (high 16 bits)
/// 7 last_seen
/// ```
/// The profile (idle timeout and roles, shared by every session with the same ones) lives in
/// ``SessionProfiles``.
///
/// **Readers** take no lock and allocate nothing: each slot is a sequence lock (read the
/// control word, the slot, the control word again; retry when it changed or was odd). A
/// removal shifts later entries of the probe run back instead of leaving tombstones, so a
/// reader racing a shift could walk past an entry that moved behind it: every move and every
/// table replacement advances ``moves``, and a reader that found nothing retries when it did.
/// A hit needs no such check: whatever a slot held consistently was the session's state at
/// some moment of the lookup.
///
/// **The writer** is whoever holds the environment's write lock: the commit queue's thread
/// (after-commit actions), or the fill at start, which runs as commit-queue work too.
///
/// **Growth** doubles the table past 3/4 full: the new table is filled, then published with one
/// release store; slots keep their control words (sequence and profile). An old table stays
/// mapped (its pages released), so a reader still in it reads zeros: a control word it read
/// before no longer matches (a written slot's control is never 0), or it finds nothing and
/// retries: address space is never returned while the index lives, at most the size of the
/// largest table.
///
/// **Authority.** Until the fill at start is complete (or if the index ever could not hold a
/// session: a full profile arena, a table that could not grow), a miss is `unknown` and the
/// caller asks LMDB; a hit is always authoritative.
final class SessionIndex: @unchecked Sendable {
    // @unchecked: the table and the profiles are written only by the one writer (under the
    // environment's write lock) and read with atomics and sequence locks, as described above.

    /// What the writer stores for one session.
    struct Entry: Sendable {
        var id: SessionID
        /// The first 16 bytes of the stored digest, as two native words.
        var digest: (UInt64, UInt64)
        var keyID: UInt16
        var userID: UInt64
        var expiresAt: Timestamp
        var lastSeen: Timestamp
        /// From ``SessionProfiles/reference(idleSeconds:rawRoles:)``.
        var profile: UInt32
    }

    /// A session found by ``lookup(_:)``.
    struct Hit {
        var digest: (UInt64, UInt64)
        var keyID: UInt16
        var userID: UInt64
        var expiresAt: Timestamp
        var lastSeen: Timestamp
        var idleSeconds: UInt32
        /// The roles, in the stored short-string form; valid while the store is open.
        var rawRoles: UnsafeRawBufferPointer
    }

    /// The answer of a lookup.
    enum Lookup {
        case hit(Hit)
        /// No such session (the index is authoritative).
        case absent
        /// Not in the index, which is not (yet) authoritative: ask LMDB.
        case unknown
    }

    /// One table: `capacity` slots of eight words.
    struct Table {
        let words: UnsafeMutablePointer<Atomic<UInt64>>
        let mask: UInt64
        let shift: UInt64
        let byteCount: Int

        var capacity: Int { Int(mask) + 1 }
    }

    static let wordsPerSlot = 8
    static let slotBytes = wordsPerSlot * 8
    static let minimumCapacity = 1 << 16
    static let maximumTimestamp: Timestamp = (1 << 48) - 1

    /// The table in use (its header is never freed while the index lives).
    private let current: Atomic<UnsafeMutablePointer<Table>>
    /// Advances with every entry moved by a removal and every table replaced.
    private let moves = Atomic<UInt64>(0)
    private let authoritative = Atomic<Bool>(false)
    /// The profiles (idle timeout, roles) entries refer to.
    let profiles: SessionProfiles
    // Writer only:
    private var count = 0
    private var retired: [UnsafeMutablePointer<Table>] = []
    private var degraded = false

    /// An empty index sized for `expected` sessions without growing. `nil` when the memory
    /// cannot be mapped.
    init?(expected: Int) {
        var capacity = Self.minimumCapacity
        while capacity < expected * 2 { capacity <<= 1 }
        guard let table = Self.makeTable(capacity: capacity), let profiles = SessionProfiles() else { return nil }
        current = Atomic(table)
        self.profiles = profiles
    }

    deinit {
        for table in retired + [current.load(ordering: .relaxed)] {
            munmap(UnsafeMutableRawPointer(table.pointee.words), table.pointee.byteCount)
            table.deallocate()
        }
    }

    /// How many sessions the index holds (writer side; for tests and logs).
    var sessionCount: Int { count }
    /// The number of slots (writer side; for tests).
    var capacity: Int { current.load(ordering: .relaxed).pointee.capacity }
    /// Whether a miss means "no such session".
    var isAuthoritative: Bool { authoritative.load(ordering: .acquiring) }
    /// The sequence of the slot holding `id` (writer side; for tests): even, and at least 2
    /// once written, in every table the slot is copied to.
    func sequence(of id: SessionID) -> UInt32? {
        let table = current.load(ordering: .relaxed).pointee
        return find(id, table).map { UInt32(truncatingIfNeeded: table.words[Int($0) * Self.wordsPerSlot].load(ordering: .relaxed)) }
    }

    // MARK: Readers

    /// The session `id`, without locking or allocating.
    @inline(__always)
    func lookup(_ id: SessionID) -> Lookup {
        guard id.high != 0 || id.low != 0 else { return isAuthoritative ? .absent : .unknown }
        while true {
            let movesBefore = moves.load(ordering: .acquiring)
            let table = current.load(ordering: .acquiring).pointee
            var slot = Self.home(id, table)
            while true {
                let words = table.words + Int(slot) * Self.wordsPerSlot
                let control = words[0].load(ordering: .acquiring)
                if control & 1 != 0 { continue }  // being written: read again
                let high = words[1].load(ordering: .relaxed)
                let low = words[2].load(ordering: .relaxed)
                if high == id.high && low == id.low {
                    let digest = (words[3].load(ordering: .relaxed), words[4].load(ordering: .relaxed))
                    let user = words[5].load(ordering: .relaxed)
                    let expiry = words[6].load(ordering: .relaxed)
                    let lastSeen = words[7].load(ordering: .relaxed)
                    atomicMemoryFence(ordering: .acquiring)
                    guard words[0].load(ordering: .relaxed) == control else { continue }
                    let profile = profiles.view(UInt32(truncatingIfNeeded: control >> 32))
                    return .hit(
                        Hit(
                            digest: digest, keyID: UInt16(truncatingIfNeeded: expiry >> 48), userID: user,
                            expiresAt: Timestamp(expiry & UInt64(Self.maximumTimestamp)), lastSeen: Timestamp(bitPattern: lastSeen),
                            idleSeconds: profile.idleSeconds, rawRoles: profile.rawRoles))
                }
                if high == 0 && low == 0 {
                    atomicMemoryFence(ordering: .acquiring)
                    guard words[0].load(ordering: .relaxed) == control else { continue }
                    break
                }
                slot = (slot &+ 1) & table.mask
            }
            // Nothing found: unless an entry moved or the table changed meanwhile, it is not here.
            atomicMemoryFence(ordering: .acquiring)
            if moves.load(ordering: .relaxed) == movesBefore { return isAuthoritative ? .absent : .unknown }
        }
    }

    @inline(__always)
    private static func home(_ id: SessionID, _ table: Table) -> UInt64 {
        // The low word is random (the high one begins with a time): Fibonacci hashing.
        (id.low &* 0x9E37_79B9_7F4A_7C15) >> table.shift
    }

    // MARK: The writer

    /// The entry for `record`'s session `id`, or `nil` when the index cannot hold it (a time
    /// beyond 48 bits, a full profile arena): the index stops being authoritative.
    func entry(
        _ id: SessionID, digest: UnsafeRawBufferPointer, keyID: UInt16, userID: UInt64, expiresAt: Timestamp,
        lastSeen: Timestamp, idleSeconds: UInt32, rawRoles: UnsafeRawBufferPointer
    ) -> Entry? {
        guard (0...Self.maximumTimestamp).contains(expiresAt), digest.count >= 16,
            let profile = profiles.reference(idleSeconds: idleSeconds, rawRoles: rawRoles)
        else { return nil }
        return Entry(
            id: id, digest: (digest.loadUnaligned(fromByteOffset: 0, as: UInt64.self), digest.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            keyID: keyID, userID: userID, expiresAt: expiresAt, lastSeen: lastSeen, profile: profile)
    }

    /// Inserts or replaces the session `entry.id`.
    func put(_ entry: Entry) {
        var table = current.load(ordering: .relaxed).pointee
        if let slot = find(entry.id, table) {
            Self.write(entry, at: slot, table)
            return
        }
        guard !degraded else { return }
        if (count + 1) * 4 > table.capacity * 3 {
            guard grow() else {
                degrade()
                return
            }
            table = current.load(ordering: .relaxed).pointee
        }
        var slot = Self.home(entry.id, table)
        while !Self.isEmpty(slot, table) { slot = (slot &+ 1) & table.mask }
        Self.write(entry, at: slot, table)
        count += 1
    }

    /// Puts `entry`, or when the index cannot hold the session (`nil`), removes what it held
    /// for `id` and stops being authoritative.
    func put(_ entry: Entry?, for id: SessionID) {
        if let entry {
            put(entry)
        } else {
            remove(id)
            degrade()
        }
    }

    /// Removes the session `id` (nothing when absent), shifting the rest of its probe run back.
    func remove(_ id: SessionID) {
        let table = current.load(ordering: .relaxed).pointee
        guard var hole = find(id, table) else { return }
        var next = hole
        while true {
            next = (next &+ 1) & table.mask
            if Self.isEmpty(next, table) { break }
            let home = Self.home(Self.id(at: next, table), table)
            // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
            let staysPut = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if staysPut { continue }
            Self.copy(from: next, to: hole, table)
            moves.add(1, ordering: .releasing)
            hole = next
        }
        Self.clear(hole, table)
        count -= 1
    }

    /// The index is complete: from now on a miss means "no such session" (unless it degrades).
    func markComplete() {
        if !degraded { authoritative.store(true, ordering: .releasing) }
    }

    /// The index cannot hold every session any more: misses go to LMDB from now on.
    private func degrade() {
        degraded = true
        authoritative.store(false, ordering: .releasing)
    }

    private func find(_ id: SessionID, _ table: Table) -> UInt64? {
        var slot = Self.home(id, table)
        while !Self.isEmpty(slot, table) {
            if Self.id(at: slot, table) == id { return slot }
            slot = (slot &+ 1) & table.mask
        }
        return nil
    }

    /// Doubles the table; `false` when the memory cannot be mapped.
    private func grow() -> Bool {
        let old = current.load(ordering: .relaxed)
        guard let bigger = Self.makeTable(capacity: old.pointee.capacity * 2) else { return false }
        let from = old.pointee
        let to = bigger.pointee
        for slot in 0..<UInt64(from.capacity) where !Self.isEmpty(slot, from) {
            var target = Self.home(Self.id(at: slot, from), to)
            while !Self.isEmpty(target, to) { target = (target &+ 1) & to.mask }
            // The control word too, sequence and all: a written slot's control is never 0, so a
            // reader that straddles the release of the old pages below (zeros from then on)
            // always sees its control change and retries.
            for word in 0..<Self.wordsPerSlot {
                let value = from.words[Int(slot) * Self.wordsPerSlot + word].load(ordering: .relaxed)
                to.words[Int(target) * Self.wordsPerSlot + word].store(value, ordering: .relaxed)
            }
        }
        current.store(bigger, ordering: .releasing)
        moves.add(1, ordering: .releasing)
        // Readers still in the old table read zeros from here on, find nothing and retry.
        _ = madvise(UnsafeMutableRawPointer(from.words), from.byteCount, MADV_DONTNEED)
        retired.append(old)
        return true
    }

    private static func makeTable(capacity: Int) -> UnsafeMutablePointer<Table>? {
        let byteCount = capacity * slotBytes
        guard let memory = mmap(nil, byteCount, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
            memory != MAP_FAILED
        else { return nil }
        // Zero pages are valid empty slots (control 0, id 0).
        let header = UnsafeMutablePointer<Table>.allocate(capacity: 1)
        header.initialize(
            to: Table(
                words: memory.assumingMemoryBound(to: Atomic<UInt64>.self), mask: UInt64(capacity - 1),
                shift: UInt64(64 - capacity.trailingZeroBitCount), byteCount: byteCount))
        return header
    }

    // MARK: Slots (writer side)

    private static func isEmpty(_ slot: UInt64, _ table: Table) -> Bool {
        let words = table.words + Int(slot) * wordsPerSlot
        return words[1].load(ordering: .relaxed) == 0 && words[2].load(ordering: .relaxed) == 0
    }

    private static func id(at slot: UInt64, _ table: Table) -> SessionID {
        let words = table.words + Int(slot) * wordsPerSlot
        return SessionID(high: words[1].load(ordering: .relaxed), low: words[2].load(ordering: .relaxed))
    }

    /// Writes a slot under its sequence lock: control odd, the words, control even with the
    /// new profile.
    private static func write(_ values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64), profile: UInt32, at slot: UInt64, _ table: Table) {
        let words = table.words + Int(slot) * wordsPerSlot
        let control = words[0].load(ordering: .relaxed)
        let sequence = UInt32(truncatingIfNeeded: control) &+ 1
        // Even again after the write, and never 0 (see Growth): past 2^32 - 2 it starts at 2.
        let written = sequence == UInt32.max ? 2 : sequence &+ 1
        words[0].store(control & ~0xffff_ffff | UInt64(sequence), ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        words[1].store(values.0, ordering: .relaxed)
        words[2].store(values.1, ordering: .relaxed)
        words[3].store(values.2, ordering: .relaxed)
        words[4].store(values.3, ordering: .relaxed)
        words[5].store(values.4, ordering: .relaxed)
        words[6].store(values.5, ordering: .relaxed)
        words[7].store(values.6, ordering: .relaxed)
        words[0].store(UInt64(profile) << 32 | UInt64(written), ordering: .releasing)
    }

    private static func write(_ entry: Entry, at slot: UInt64, _ table: Table) {
        write(
            (
                entry.id.high, entry.id.low, entry.digest.0, entry.digest.1, entry.userID,
                UInt64(entry.expiresAt) | UInt64(entry.keyID) << 48, UInt64(bitPattern: entry.lastSeen)
            ), profile: entry.profile, at: slot, table)
    }

    private static func copy(from source: UInt64, to target: UInt64, _ table: Table) {
        let words = table.words + Int(source) * wordsPerSlot
        write(
            (
                words[1].load(ordering: .relaxed), words[2].load(ordering: .relaxed), words[3].load(ordering: .relaxed),
                words[4].load(ordering: .relaxed), words[5].load(ordering: .relaxed), words[6].load(ordering: .relaxed),
                words[7].load(ordering: .relaxed)
            ), profile: UInt32(truncatingIfNeeded: words[0].load(ordering: .relaxed) >> 32), at: target, table)
    }

    private static func clear(_ slot: UInt64, _ table: Table) {
        write((0, 0, 0, 0, 0, 0, 0), profile: 0, at: slot, table)
    }
}
