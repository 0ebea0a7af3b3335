/// A session's id: 16 bytes, not a secret. Session lists show it (as 32 hexadecimal digits) and
/// a session is revoked by it.
public typealias SessionID = Identifier<Identifiers.Session>

/// An API key's id: 16 bytes, not a secret (the key's text carries its secret). API key lists
/// show it (as 32 hexadecimal digits) and a key is revoked by it. A different type from
/// ``SessionID``: one cannot be passed for the other.
public typealias APIKeyID = Identifier<Identifiers.APIKey>

/// What an ``Identifier`` names.
public enum Identifiers {
    public enum Session {}
    public enum APIKey {}
}

/// A 16-byte id of one kind of thing (``SessionID``, ``APIKeyID``), shown as 32 lower-case
/// hexadecimal digits.
///
/// Held as two big-endian halves, so comparing, hashing and storing one allocates nothing.
@frozen
public struct Identifier<Kind>: Hashable, Sendable, CustomStringConvertible {
    /// Bytes 0–7, big-endian.
    public var high: UInt64
    /// Bytes 8–15, big-endian.
    public var low: UInt64

    /// 16.
    public static var length: Int { 16 }

    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// `nil` unless `bytes` holds exactly 16 bytes.
    @inlinable
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.length else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// Reads the first 16 bytes of `raw`, which must hold at least 16.
    @inlinable
    public init(unsafeRaw raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= 16)
        high = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        low = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }

    /// Parses 32 hexadecimal digits (either case).
    @inlinable
    public init?(hex: some StringProtocol) {
        guard hex.utf8.count == 32, let bytes = Hex.parse(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// The 16 bytes.
    @inlinable
    public var bytes: [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    /// Calls `body` with the 16 bytes, without allocating.
    @inlinable @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var raw = (high.bigEndian, low.bigEndian)
        return try Swift.withUnsafeBytes(of: &raw) { try body($0) }
    }

    /// 32 lower-case hexadecimal digits.
    public var description: String { Hex.format(bytes) }

    @inlinable
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.high == rhs.high && lhs.low == rhs.low
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(high)
        hasher.combine(low)
    }
}
