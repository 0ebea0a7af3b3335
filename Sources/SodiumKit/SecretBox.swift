import CSodium

/// Authenticated encryption with XSalsa20-Poly1305 (`crypto_secretbox_easy`), a fresh random
/// nonce per message, stored in front of the ciphertext.
public enum SecretBox {
    public static let keyLength = Int(crypto_secretbox_KEYBYTES)
    static let nonceLength = Int(crypto_secretbox_NONCEBYTES)
    static let macLength = Int(crypto_secretbox_MACBYTES)

    /// `nonce ‖ ciphertext ‖ tag` of `plaintext` under the 32-byte `key`.
    public static func seal(_ plaintext: [UInt8], key: [UInt8]) -> [UInt8] {
        Sodium.ensureReady()
        precondition(key.count == keyLength)
        var out = [UInt8](repeating: 0, count: nonceLength + macLength + plaintext.count)
        out.withUnsafeMutableBufferPointer { buffer in
            randombytes_buf(buffer.baseAddress!, nonceLength)
            let rc = crypto_secretbox_easy(buffer.baseAddress! + nonceLength, plaintext, UInt64(plaintext.count), buffer.baseAddress!, key)
            precondition(rc == 0)
        }
        return out
    }

    /// The plaintext, or `nil` when the box was not sealed under `key` or was altered.
    public static func open(_ box: [UInt8], key: [UInt8]) -> [UInt8]? {
        Sodium.ensureReady()
        guard key.count == keyLength, box.count >= nonceLength + macLength else { return nil }
        var out = [UInt8](repeating: 0, count: box.count - nonceLength - macLength)
        let rc = box.withUnsafeBufferPointer { b in
            crypto_secretbox_open_easy(&out, b.baseAddress! + nonceLength, UInt64(box.count - nonceLength), b.baseAddress!, key)
        }
        return rc == 0 ? out : nil
    }
}
