import CSodium

/// HMAC (RFC 2104) with SHA-1, SHA-256 or SHA-512: what TOTP (RFC 6238) computes its codes with.
/// SHA-256 and SHA-512 are libsodium's `crypto_auth_hmacsha256/512`; SHA-1, which libsodium
/// does not have and TOTP still uses by default, is ``SHA1``. (SHA-1's collision attacks do not
/// reach HMAC-SHA-1, whose security rests on the compression function as a PRF.)
public enum HMAC {
    public enum Algorithm: String, Sendable, CaseIterable {
        case sha1 = "SHA1"
        case sha256 = "SHA256"
        case sha512 = "SHA512"

        /// The digest length in bytes.
        public var length: Int {
            switch self {
            case .sha1: 20
            case .sha256: 32
            case .sha512: 64
            }
        }
    }

    /// HMAC-`algorithm`(`key`, `message`).
    public static func authenticate(_ message: [UInt8], key: UnsafeRawBufferPointer, algorithm: Algorithm) -> [UInt8] {
        Sodium.ensureReady()
        let keyBytes = key.bindMemory(to: UInt8.self)
        // HMAC pads the key with zero bytes to a block, so an empty key is the key [0].
        guard let keyStart = keyBytes.baseAddress, keyBytes.count > 0 else { return authenticate(message, key: [0], algorithm: algorithm) }
        switch algorithm {
        case .sha1:
            return SHA1.hmac(message, key: keyBytes)
        case .sha256:
            var state = crypto_auth_hmacsha256_state()
            var out = [UInt8](repeating: 0, count: 32)
            crypto_auth_hmacsha256_init(&state, keyStart, keyBytes.count)
            crypto_auth_hmacsha256_update(&state, message, UInt64(message.count))
            crypto_auth_hmacsha256_final(&state, &out)
            sodium_memzero(&state, MemoryLayout.size(ofValue: state))
            return out
        case .sha512:
            var state = crypto_auth_hmacsha512_state()
            var out = [UInt8](repeating: 0, count: 64)
            crypto_auth_hmacsha512_init(&state, keyStart, keyBytes.count)
            crypto_auth_hmacsha512_update(&state, message, UInt64(message.count))
            crypto_auth_hmacsha512_final(&state, &out)
            sodium_memzero(&state, MemoryLayout.size(ofValue: state))
            return out
        }
    }

    /// Convenience over an array key.
    public static func authenticate(_ message: [UInt8], key: [UInt8], algorithm: Algorithm) -> [UInt8] {
        key.withUnsafeBytes { authenticate(message, key: $0, algorithm: algorithm) }
    }
}

/// SHA-1 (FIPS 180-4), here only as HMAC-SHA-1's hash for TOTP.
public enum SHA1 {
    /// SHA-1 of `message` (20 bytes).
    public static func hash(_ message: some Collection<UInt8>) -> [UInt8] {
        var state: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
        var data = Array(message)
        let bitLength = UInt64(data.count) &* 8
        data.append(0x80)
        while data.count % 64 != 56 { data.append(0) }
        for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        var words = [UInt32](repeating: 0, count: 80)
        for block in stride(from: 0, to: data.count, by: 64) {
            for index in 0..<16 {
                let at = block + index * 4
                words[index] = UInt32(data[at]) << 24 | UInt32(data[at + 1]) << 16 | UInt32(data[at + 2]) << 8 | UInt32(data[at + 3])
            }
            for index in 16..<80 { words[index] = rotateLeft(words[index - 3] ^ words[index - 8] ^ words[index - 14] ^ words[index - 16], 1) }
            var (a, b, c, d, e) = state
            for index in 0..<80 {
                let (f, k): (UInt32, UInt32)
                switch index {
                case 0..<20: (f, k) = ((b & c) | (~b & d), 0x5A82_7999)
                case 20..<40: (f, k) = (b ^ c ^ d, 0x6ED9_EBA1)
                case 40..<60: (f, k) = ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC)
                default: (f, k) = (b ^ c ^ d, 0xCA62_C1D6)
                }
                let next = rotateLeft(a, 5) &+ f &+ e &+ k &+ words[index]
                (a, b, c, d, e) = (next, a, rotateLeft(b, 30), c, d)
            }
            state = (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
        }
        sodium_memzero(&data, data.count)
        sodium_memzero(&words, words.count * 4)
        return [state.0, state.1, state.2, state.3, state.4].flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> (24 - 8 * $0)) } }
    }

    /// HMAC-SHA-1 (RFC 2104, 64-byte blocks).
    static func hmac(_ message: [UInt8], key: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var block = key.count > 64 ? hash(key) : Array(key)
        block += [UInt8](repeating: 0, count: 64 - block.count)
        defer { sodium_memzero(&block, block.count) }
        let inner = hash(block.map { $0 ^ 0x36 } + message)
        return hash(block.map { $0 ^ 0x5C } + inner)
    }

    @inline(__always)
    private static func rotateLeft(_ value: UInt32, _ count: UInt32) -> UInt32 { value << count | value >> (32 - count) }
}
