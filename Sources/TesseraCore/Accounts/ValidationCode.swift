import SodiumKit

/// A one-time code that validates an account: 32 random bytes, sent as 43 characters of
/// URL-safe Base64. Stored only as its keyed digest.
struct ValidationCode: Sendable {
    let text: String
    let digest: [UInt8]

    static func generate(key: TokenKey) -> ValidationCode {
        let bytes = SecureRandom.bytes(32)
        return ValidationCode(text: Base64URL.encode(bytes), digest: KeyedHash.blake2b(bytes, key: key.materialBytes))
    }

    /// The digest of a presented code, or `nil` when it is not a code's text form.
    static func digest(of text: String, key: TokenKey) -> [UInt8]? {
        var utf8 = Array(text.utf8)
        guard utf8.count == 43 else { return nil }
        var bytes = [UInt8](repeating: 0, count: 33)
        let count = utf8.withUnsafeMutableBytes { t in bytes.withUnsafeMutableBytes { Base64URL.decode(UnsafeRawBufferPointer(t), into: $0) } }
        guard count == 32 else { return nil }
        return KeyedHash.blake2b(Array(bytes.prefix(32)), key: key.materialBytes)
    }
}
