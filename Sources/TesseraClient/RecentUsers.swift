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
/// one user a slot, by user id, in 64 slots (``KeptByBytes``), and none longer than ``largestKept``
/// bytes. A USER carries no secret.
final class RecentUsers: Sendable {
    static let largestKept = 4096
    private let kept = KeptByBytes<User>(slots: 64)

    /// The user a reply's `user` field holds: the one kept for these very bytes, or else
    /// decoded (and then kept). Throws as decoding would: a malformed field is a malformed
    /// reply.
    func user(from field: ByteBuffer) throws(TesseraClientError) -> User {
        guard field.readableBytes <= Self.largestKept else { return try Self.decode(field) }
        let key = Self.userID(of: field)
        if let user = field.withUnsafeReadableBytes({ kept.value(key: key, for: $0) }) { return user }
        let user = try Self.decode(field)
        field.withUnsafeReadableBytes { kept.keep(user, key: key, for: $0) }
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
    /// over the slots by id. Anything else is keyed 0 (and is still compared whole).
    private static func userID(of field: ByteBuffer) -> UInt64 {
        guard field.getInteger(at: field.readerIndex, as: UInt8.self) == 1,
            let id = field.getInteger(at: field.readerIndex + 3, as: UInt64.self)
        else { return 0 }
        return id
    }
}
