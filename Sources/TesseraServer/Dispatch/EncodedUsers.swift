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
/// 256 slots (``KeptByBytes``), neither record nor field longer than ``largestKept`` bytes. The
/// records are the bytes LMDB's map already holds in this process (the password hash among
/// them); the fields are what any verify with the user sends.
final class EncodedUsers: Sendable {
    static let largestKept = 4096
    private let kept = KeptByBytes<[UInt8]>(slots: 256)

    /// Writes the `user` field for user `id` as `snapshot` holds it into `out`; nothing when
    /// there is no such user.
    func writeUser(id: UInt64, in snapshot: ReadSnapshot, into out: inout ByteBuffer) throws {
        _ = try snapshot.user(id: id) { record, profile in
            if let field = kept.value(key: id, for: record) { return out.writeBytes(field) }
            let start = out.writerIndex
            try VerifyResponse.writeUser(UserInfo(try profile()), into: &out)
            let length = out.writerIndex - start
            guard record.count <= Self.largestKept, length <= Self.largestKept else { return 0 }
            kept.keep(out.getBytes(at: start, length: length)!, key: id, for: record)
            return length
        }
    }
}
