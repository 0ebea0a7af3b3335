import CSodium

/// argon2id password hashing through libsodium's `crypto_pwhash_str` family.
///
/// The stored string carries its own algorithm and parameters (`$argon2id$v=19$m=...,t=...,p=1$...`),
/// so hashes made with older parameters still verify, and ``needsRehash(_:)`` says when a
/// successful login should replace them.
public struct PasswordHasher: Sendable, Equatable {
    /// Number of passes (`opslimit`).
    public var opsLimit: UInt64
    /// Memory in bytes (`memlimit`).
    public var memLimit: Int

    /// libsodium's INTERACTIVE parameters: 2 passes, 64 MiB.
    public static var interactive: PasswordHasher {
        PasswordHasher(opsLimit: UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), memLimit: Int(crypto_pwhash_MEMLIMIT_INTERACTIVE))
    }
    /// libsodium's MODERATE parameters: 3 passes, 256 MiB.
    public static var moderate: PasswordHasher {
        PasswordHasher(opsLimit: UInt64(crypto_pwhash_OPSLIMIT_MODERATE), memLimit: Int(crypto_pwhash_MEMLIMIT_MODERATE))
    }
    /// The smallest parameters libsodium accepts for argon2id (1 pass, 8 KiB). For tests only.
    public static var minimum: PasswordHasher {
        PasswordHasher(opsLimit: UInt64(crypto_pwhash_argon2id_OPSLIMIT_MIN), memLimit: Int(crypto_pwhash_argon2id_MEMLIMIT_MIN))
    }

    /// Creates a hasher; throws ``SodiumError/invalidInput`` when libsodium would reject the parameters.
    public init(opsLimit: UInt64, memLimit: Int) {
        self.opsLimit = opsLimit
        self.memLimit = memLimit
    }

    /// `true` when libsodium accepts these parameters for argon2id.
    public var isValid: Bool {
        opsLimit >= UInt64(crypto_pwhash_argon2id_OPSLIMIT_MIN) && opsLimit <= UInt64(crypto_pwhash_argon2id_OPSLIMIT_MAX)
            && memLimit >= Int(crypto_pwhash_argon2id_MEMLIMIT_MIN)
    }

    /// The longest password accepted, in bytes. Longer inputs are refused before hashing, so a
    /// huge password cannot be used to burn CPU.
    public static let maximumPasswordLength = 1024

    /// Hashes `password` into a self-describing argon2id string.
    public func hash(_ password: SecretBytes) throws -> String {
        Sodium.ensureReady()
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let rc = password.withUnsafeBytes { pw in
            crypto_pwhash_argon2id_str(
                &out, pw.baseAddress!.assumingMemoryBound(to: CChar.self),
                UInt64(pw.count), opsLimit, memLimit)
        }
        guard rc == 0 else { throw SodiumError.outOfMemory }
        return out.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Checks `password` against `hash` in time independent of where they differ.
    public func verify(_ password: SecretBytes, against hash: String) -> Bool {
        Sodium.ensureReady()
        return password.withUnsafeBytes { pw in
            hash.withCString { h in
                crypto_pwhash_str_verify(h, pw.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(pw.count)) == 0
            }
        }
    }

    /// `true` when `hash` was made with other parameters (or another algorithm) than these.
    public func needsRehash(_ hash: String) -> Bool {
        Sodium.ensureReady()
        return hash.withCString { crypto_pwhash_argon2id_str_needs_rehash($0, opsLimit, memLimit) } != 0
    }
}
