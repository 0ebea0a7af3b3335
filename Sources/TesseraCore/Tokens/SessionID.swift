import SodiumKit
import TesseraModel

extension Identifier {
    /// Reads the first 16 bytes of `raw`.
    init(raw: UnsafeRawBufferPointer) {
        self.init(unsafeRaw: raw)
    }

    /// The same 16 bytes as an id of another kind: where one token format carries both (an API
    /// key's text is a session token's, with another kind byte).
    package init<Other>(reinterpreting other: Identifier<Other>) {
        self.init(high: other.high, low: other.low)
    }

    /// The id of nothing (16 zero bytes): where a record says "none".
    package static var zero: Self { Self(high: 0, low: 0) }

    /// A new id: 48 bits of the current time in milliseconds, then 80 random bits.
    ///
    /// Time first, so ids made close together sort close together: a new session, its index
    /// entry and its refresh records land on the right-hand edge of their B-trees, and a refresh
    /// that replaces a recent session touches pages the same commit already dirtied. With
    /// random ids every write dirtied its own 4 KiB page, and durable writes were bound by disk
    /// bandwidth. The id is not a secret (the token's 256-bit secret is): the time it reveals
    /// is the session's creation time, which session lists show anyway.
    static func random(now: Timestamp) -> Self {
        var raw = (UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &raw) { SecureRandom.fill($0) }
        let time = UInt64(truncatingIfNeeded: now) & 0xFFFF_FFFF_FFFF
        return Self(high: time << 16 | (raw.0 & 0xFFFF), low: raw.1)
    }
}
