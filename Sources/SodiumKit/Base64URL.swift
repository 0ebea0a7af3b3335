import CSodium

/// URL-safe Base64 without padding (RFC 4648 §5), through libsodium's constant-time codec.
public enum Base64URL {
    private static let variant = Int32(sodium_base64_VARIANT_URLSAFE_NO_PADDING)

    /// Encodes `bytes`.
    public static func encode(_ bytes: UnsafeRawBufferPointer) -> String {
        Sodium.ensureReady()
        let capacity = sodium_base64_encoded_len(bytes.count, variant)
        return String(unsafeUninitializedCapacity: capacity) { out in
            out.withMemoryRebound(to: CChar.self) { chars in
                _ = sodium_bin2base64(
                    chars.baseAddress!, capacity,
                    bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count, variant)
            }
            return capacity - 1  // without the terminating NUL
        }
    }

    /// Encodes `bytes`.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { encode($0) }
    }

    /// Decodes `text` into `output`; returns the number of bytes written, or `nil` when the
    /// text is not canonical URL-safe Base64 or does not fit.
    public static func decode(_ text: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        Sodium.ensureReady()
        var written = 0
        var end: UnsafePointer<CChar>? = nil
        let rc = sodium_base642bin(
            output.baseAddress!.assumingMemoryBound(to: UInt8.self), output.count,
            text.baseAddress?.assumingMemoryBound(to: CChar.self), text.count,
            nil, &written, &end, variant)
        guard rc == 0 else { return nil }
        // Reject trailing garbage: the whole input must have been consumed.
        if let end, let base = text.baseAddress {
            guard UnsafeRawPointer(end) == base + text.count else { return nil }
        }
        return written
    }
}
