import Glibc
import Locking
import NIOCore
internal import TesseraProtocol

/// The users of recent VERIFY replies, each kept with the bytes it was decoded from, so that a
/// user unchanged since its last reply is not decoded again: a web process asks for the same
/// few users on request after request ("who am I"), and decoding one is most of what the
/// client spends on such a call.
///
/// Exact by construction: a user is reused only for a byte-for-byte equal `user` field, so any
/// change the daemon reports (a role, an attribute, the last login) is decoded afresh. Bounded:
/// one user a slot, by user id, in ``slotCount`` slots, and none longer than ``largestKept``
/// bytes. A USER carries no secret.
final class RecentUsers: Sendable {
    static let slotCount = 64
    static let largestKept = 4096

    private struct Entry {
        var bytes: [UInt8]
        var user: User
    }

    private let slots: [Locked<Entry?>]

    init() {
        slots = (0..<Self.slotCount).map { _ in Locked(nil) }
    }

    /// The user a reply's `user` field holds: the one kept for these very bytes, or else
    /// decoded (and then kept). Throws as decoding would: a malformed field is a malformed
    /// reply.
    func user(from field: ByteBuffer) throws(TesseraClientError) -> User {
        let count = field.readableBytes
        guard count > 0, count <= Self.largestKept else { return try Self.decode(field) }
        let slot = slots[Self.slot(of: field)]
        let kept = field.withUnsafeReadableBytes { bytes in
            slot.withLock { entry -> User? in
                guard let entry, entry.bytes.count == count,
                    entry.bytes.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, count) }) == 0
                else { return nil }
                return entry.user
            }
        }
        if let kept { return kept }
        let user = try Self.decode(field)
        let entry = Entry(bytes: Array(field.readableBytesView), user: user)
        slot.withLock { $0 = entry }
        return user
    }

    private static func decode(_ field: ByteBuffer) throws(TesseraClientError) -> User {
        let info: UserInfo
        do {
            info = try UserInfo(decoding: field)
        } catch {
            throw .malformedReply("\(error)")
        }
        return try User(info)
    }

    /// A USER's first field is its id (tag 1, 8 bytes, after a 3-byte header): users spread
    /// over the slots by id. Anything else takes slot 0 (and is still compared whole).
    private static func slot(of field: ByteBuffer) -> Int {
        guard field.getInteger(at: field.readerIndex, as: UInt8.self) == 1,
            let id = field.getInteger(at: field.readerIndex + 3, as: UInt64.self)
        else { return 0 }
        return Int(id % UInt64(slotCount))
    }
}
