import CCrypt

#if canImport(Glibc)
import Glibc
#endif

/// Password hashes of the crypt(3) family, as other systems store them, checked by libxcrypt's
/// `crypt_rn`: bcrypt (`$2a$`, `$2b$`, `$2y$`), sha256crypt (`$5$`), sha512crypt (`$6$`) and
/// yescrypt (`$y$`). Tessera never makes one: it checks them for users imported with one, then
/// replaces them with its own argon2id.
public enum CryptHash {
    /// The prefixes of the methods this accepts (libxcrypt has more, all weaker: DES, MD5...).
    public static let prefixes = ["$2a$", "$2b$", "$2y$", "$5$", "$6$", "$y$"]

    /// Whether `hash` is of a method this checks.
    public static func recognizes(_ hash: String) -> Bool {
        prefixes.contains { hash.hasPrefix($0) }
    }

    /// Checks `password` against `hash`: `crypt_rn` hashes the password with the hash's own
    /// setting (method, cost, salt), and the result is compared in time independent of where it
    /// differs. `false` for a hash of another method, a malformed one, or a password holding a
    /// NUL byte (which crypt(3) would cut it at). The working memory is wiped after use.
    public static func verify(_ password: UnsafeRawBufferPointer, against hash: String) -> Bool {
        guard var computed = crypt(password, setting: hash) else { return false }
        defer { explicit_bzero(&computed, computed.count) }
        let expected = Array(hash.utf8)
        guard computed.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<expected.count { difference |= computed[index] ^ expected[index] }
        return difference == 0
    }

    /// The hash of `password` under `setting` (a whole hash, or its method, cost and salt):
    /// what a hash of the same method, cost and salt looks like for another password. Tessera
    /// makes these of random passwords only, as what a refused check costs (``verify(_:against:)``
    /// against it takes as long as against the original). `nil` when libxcrypt refuses.
    public static func hash(_ password: UnsafeRawBufferPointer, setting: String) -> String? {
        crypt(password, setting: setting).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `crypt_rn` of `password` with `setting`, its working memory wiped after use.
    private static func crypt(_ password: UnsafeRawBufferPointer, setting hash: String) -> [UInt8]? {
        guard recognizes(hash), !password.contains(0), hash.utf8.count < Int(CRYPT_OUTPUT_SIZE) else { return nil }
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        let size = MemoryLayout<crypt_data>.size
        memset(data, 0, size)
        defer {
            explicit_bzero(data, size)
            data.deallocate()
        }
        // NUL-terminated copies: the phrase is wiped with the rest.
        var phrase = [CChar](repeating: 0, count: password.count + 1)
        defer { explicit_bzero(&phrase, phrase.count) }
        phrase.withUnsafeMutableBytes { $0.copyMemory(from: password) }
        guard let result = crypt_rn(phrase, hash, data, Int32(size)) else { return nil }
        // A failed crypt_rn answers NULL, or (for some methods) a string starting with '*'.
        let computed = Array(UnsafeRawBufferPointer(start: result, count: strlen(result)))
        guard computed.first != UInt8(ascii: "*") else { return nil }
        return computed
    }
}
