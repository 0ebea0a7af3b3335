import SodiumKit

/// What is kept of a session or refresh token once the sweeper removed it for expiry, so that
/// VERIFY and REFRESH can still answer `token-expired` (not `token-invalid`) to its holder:
/// the digest to recognize the token by, and when it expired. Kept for the refresh lifetime.
///
/// Layout: `u8 version=1 | i64 expired_at | u16 key id | 32 bytes digest`.
struct ExpiredTokenRecord: Equatable {
    var expiredAt: Timestamp
    var keyID: UInt16
    var digest: [UInt8]

    /// Which table the token came from; the first byte of its key in `expired_tokens`.
    enum Kind: UInt8 {
        case session = 1
        case refresh = 2
    }

    init(expiredAt: Timestamp, keyID: UInt16, digest: [UInt8]) {
        self.expiredAt = expiredAt
        self.keyID = keyID
        self.digest = digest
    }

    func encoded() -> [UInt8] {
        var writer = RecordWriter(version: 1, capacity: 43)
        writer.write(expiredAt)
        writer.write(keyID)
        writer.write(raw: digest)
        return writer.bytes
    }

    init(decoding bytes: UnsafeRawBufferPointer) throws(RecordError) {
        var reader = RecordReader(bytes)
        _ = try reader.read(UInt8.self)
        expiredAt = try reader.read()
        keyID = try reader.read()
        digest = Array(try reader.read(raw: 32))
    }

    /// Whether `digest`, made with key `keyID`, is this token's (in constant time).
    func matches(keyID: UInt16, digest presented: UnsafeRawBufferPointer) -> Bool {
        let same = digest.withUnsafeBytes { ConstantTime.equals(presented, $0) }
        return same && keyID == self.keyID
    }
}
