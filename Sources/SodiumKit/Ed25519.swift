import CSodium

/// Ed25519 signatures (libsodium `crypto_sign`): the JWT signing key (`alg: EdDSA`, RFC 8037).
public enum Ed25519 {
    public static let seedLength = Int(crypto_sign_SEEDBYTES)
    public static let publicKeyLength = Int(crypto_sign_PUBLICKEYBYTES)
    public static let signatureLength = Int(crypto_sign_BYTES)

    /// The key pair of a 32-byte seed: the public key (32 bytes) and the secret key (64 bytes).
    public static func keyPair(seed: [UInt8]) -> (publicKey: [UInt8], secretKey: [UInt8]) {
        Sodium.ensureReady()
        precondition(seed.count == seedLength)
        var publicKey = [UInt8](repeating: 0, count: publicKeyLength)
        var secretKey = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        let rc = crypto_sign_seed_keypair(&publicKey, &secretKey, seed)
        precondition(rc == 0)
        return (publicKey, secretKey)
    }

    /// The detached signature (64 bytes) of `message` under `secretKey`.
    public static func sign(_ message: [UInt8], secretKey: [UInt8]) -> [UInt8] {
        Sodium.ensureReady()
        var signature = [UInt8](repeating: 0, count: signatureLength)
        let rc = crypto_sign_detached(&signature, nil, message, UInt64(message.count), secretKey)
        precondition(rc == 0)
        return signature
    }

    /// Whether `signature` is `message`'s under `publicKey`.
    public static func verify(_ signature: [UInt8], of message: [UInt8], publicKey: [UInt8]) -> Bool {
        Sodium.ensureReady()
        guard signature.count == signatureLength, publicKey.count == publicKeyLength else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }
}
