import SodiumKit

/// The public half of a session token: 16 random bytes naming the session.
///
/// Not a secret: it is shown in session lists and used to revoke one session. The secret half
/// of the token never leaves the token itself.
public struct SessionID: Hashable, Sendable, CustomStringConvertible {
    /// Bytes 0–7, big-endian.
    public var high: UInt64
    /// Bytes 8–15, big-endian.
    public var low: UInt64

    public static let length = 16

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Reads 16 bytes; `nil` for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.length else { return nil }
        let array = Array(bytes)
        self.init(raw: array.withUnsafeBytes { $0 })
    }

    init(raw: UnsafeRawBufferPointer) {
        high = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// Parses 32 hexadecimal digits.
    public init?(hex: String) {
        guard hex.utf8.count == 32, let high = UInt64(hex.prefix(16), radix: 16), let low = UInt64(hex.suffix(16), radix: 16) else {
            return nil
        }
        self.init(high: high, low: low)
    }

    /// A new id: 48 bits of the current time in milliseconds, then 80 random bits.
    ///
    /// Time first, so ids made close together sort close together: a new session, its index
    /// entry and its refresh records land on the right-hand edge of their B-trees, and a refresh
    /// that replaces a recent session touches pages the same commit already dirtied. With
    /// random ids every write dirtied its own 4 KiB page, and durable writes were bound by disk
    /// bandwidth. The id is not a secret (the token's 256-bit secret is): the time it reveals
    /// is the session's creation time, which session lists show anyway.
    static func random(now: Timestamp) -> SessionID {
        var raw = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &raw) { SecureRandom.fill($0) }
        let time = UInt64(truncatingIfNeeded: now) & 0xFFFF_FFFF_FFFF
        return SessionID(high: time << 16 | (raw.0 & 0xFFFF), low: raw.1)
    }

    /// The 16 bytes, big-endian.
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Calls `body` with the 16 bytes, without allocating.
    @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var raw = (high.bigEndian, low.bigEndian)
        return try Swift.withUnsafeBytes(of: &raw) { try body($0) }
    }

    /// 32 lower-case hexadecimal digits.
    public var description: String {
        let h = String(high, radix: 16), l = String(low, radix: 16)
        return String(repeating: "0", count: 16 - h.count) + h + String(repeating: "0", count: 16 - l.count) + l
    }
}
