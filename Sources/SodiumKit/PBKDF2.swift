import CSodium

/// PBKDF2 (RFC 8018) with HMAC-SHA-256, on libsodium's `crypto_auth_hmacsha256`: the password
/// hashes of Django (`pbkdf2_sha256$…`) and of passlib (`$pbkdf2-sha256$…`) that users bring
/// from other systems. Tessera checks such hashes once, then stores its own argon2id.
public enum PBKDF2 {
    /// The most iterations accepted: a stored hash with more would let one login burn the CPU
    /// (Django's default in 2025 is 1,000,000).
    public static let maximumIterations = 10_000_000

    /// PBKDF2-HMAC-SHA-256 of `password` with `salt`, `iterations` rounds, `length` bytes.
    public static func sha256(password: UnsafeRawBufferPointer, salt: [UInt8], iterations: Int, length: Int) -> [UInt8] {
        precondition(iterations >= 1 && length >= 1)
        Sodium.ensureReady()
        // The key's state (the inner and outer pads) is made once and copied for every HMAC.
        var keyed = crypto_auth_hmacsha256_state()
        if password.isEmpty {
            var zero: UInt8 = 0
            crypto_auth_hmacsha256_init(&keyed, &zero, 1)
        } else {
            crypto_auth_hmacsha256_init(&keyed, password.baseAddress!.assumingMemoryBound(to: UInt8.self), password.count)
        }
        defer { sodium_memzero(&keyed, MemoryLayout.size(ofValue: keyed)) }
        var output: [UInt8] = []
        output.reserveCapacity(length)
        var block: UInt32 = 1
        var u = [UInt8](repeating: 0, count: 32)
        var t = [UInt8](repeating: 0, count: 32)
        defer {
            sodium_memzero(&u, u.count)
            sodium_memzero(&t, t.count)
        }
        while output.count < length {
            var state = keyed
            crypto_auth_hmacsha256_update(&state, salt, UInt64(salt.count))
            var index = block.bigEndian
            _ = withUnsafeBytes(of: &index) { crypto_auth_hmacsha256_update(&state, $0.baseAddress!.assumingMemoryBound(to: UInt8.self), 4) }
            crypto_auth_hmacsha256_final(&state, &u)
            t = u
            for _ in 1..<max(iterations, 1) {
                state = keyed
                crypto_auth_hmacsha256_update(&state, u, 32)
                crypto_auth_hmacsha256_final(&state, &u)
                for byte in 0..<32 { t[byte] ^= u[byte] }
            }
            sodium_memzero(&state, MemoryLayout.size(ofValue: state))
            output += t.prefix(length - output.count)
            block += 1
        }
        return output
    }
}
