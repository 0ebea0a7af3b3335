import CSodium

/// SHA-256 (libsodium's `crypto_hash_sha256`) as Meteor's accounts (Rocket.Chat) apply it to a
/// password before bcrypt (the lower-case hex of the digest is what their stored hash was made
/// from, and what their clients may send instead of the password), to login tokens and to
/// backup codes: what an imported token or code is recognised by.
public enum SHA256 {
    /// The 32-byte digest of `bytes`.
    public static func digest(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { digest(bytes, into: $0) }
        return out
    }

    /// Writes the 32-byte digest of `bytes` into `output`, without allocating.
    @inline(__always)
    public static func digest(_ bytes: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) {
        Sodium.ensureReady()
        precondition(output.count >= 32)
        _ = crypto_hash_sha256(
            output.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    /// The lower-case hex of the digest of `password`, itself a secret (it opens the account as
    /// the password does), so it is handed back as one; the digest is wiped.
    public static func lowercaseHex(of password: SecretBytes) -> SecretBytes {
        var digest = password.withUnsafeBytes { bytes -> [UInt8] in Self.digest(bytes) }
        let alphabet = Array("0123456789abcdef".utf8)
        var hex = [UInt8](repeating: 0, count: 64)
        for (index, byte) in digest.enumerated() {
            hex[2 * index] = alphabet[Int(byte >> 4)]
            hex[2 * index + 1] = alphabet[Int(byte & 0x0f)]
        }
        sodium_memzero(&digest, digest.count)
        return SecretBytes(wiping: &hex)
    }
}
