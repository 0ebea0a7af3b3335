import Glibc
import Locking
import NIOCore
@_spi(TesseraInternal) import TesseraCore
import TesseraProtocol

/// The `user` fields of recent VERIFY replies, each kept with the stored record it was encoded
/// from, so that a user unchanged since its last reply is written by copying its bytes rather
/// than decoded from its record and encoded again: a web process asks for the same few users
/// request after request ("who am I"), and those two steps were half of such a verify.
///
/// Exact by construction: the kept field is written only for a record byte-for-byte equal to
/// the one it was made from, so every write to the user (a role, an attribute, a login, a
/// password) is seen by the very next verify. Bounded: one user a slot, by user id, in
/// ``slotCount`` slots, neither record nor field longer than ``largestKept`` bytes. The
/// records are the bytes LMDB's map already holds in this process (the password hash among
/// them); the fields are what any verify with the user sends.
final class EncodedUsers: Sendable {
    static let slotCount = 256
    static let largestKept = 4096

    private struct Entry {
        var record: [UInt8]
        var field: [UInt8]
    }

    private let slots: [Locked<Entry?>]

    init() {
        slots = (0..<Self.slotCount).map { _ in Locked(nil) }
    }

    /// Writes the `user` field for user `id` as `snapshot` holds it into `out`; nothing when
    /// there is no such user.
    func writeUser(id: UInt64, in snapshot: ReadSnapshot, into out: inout ByteBuffer) throws {
        let slot = slots[Int(id % UInt64(Self.slotCount))]
        _ = try snapshot.user(id: id) { record, profile in
            let copied = slot.withLock { entry -> Bool in
                guard let entry, entry.record.count == record.count,
                    record.count == 0 || entry.record.withUnsafeBytes({ memcmp($0.baseAddress!, record.baseAddress!, record.count) }) == 0
                else { return false }
                out.writeBytes(entry.field)
                return true
            }
            if copied { return }
            let start = out.writerIndex
            try VerifyResponse.writeUser(UserInfo(try profile()), into: &out)
            let length = out.writerIndex - start
            guard record.count <= Self.largestKept, length <= Self.largestKept else { return }
            let entry = Entry(record: Array(record), field: out.getBytes(at: start, length: length)!)
            slot.withLock { $0 = entry }
        }
    }
}
