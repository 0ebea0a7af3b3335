import SodiumKit
import TesseraModel

/// What a ``TwoFactorRecord`` keeps sealed: the TOTP secret and the digests of the recovery
/// codes not yet used.
///
/// Sealed with XSalsa20-Poly1305 under a secret-sealing key of the ring. The plaintext names the
/// user it belongs to, so a sealed box copied into another user's record does not open there:
/// `u64 user id | u8 len + TOTP secret | 32 bytes digest key | u8 count + 32 bytes digest*`.
/// A recovery code's digest is keyed BLAKE2b-256 under the record's own random digest key (over
/// the code's normalized letters, or over an imported code's SHA-256).
struct TwoFactorSecrets: Equatable {
    var secret: [UInt8]
    var digestKey: [UInt8]
    var recoveryDigests: [[UInt8]]

    init(secret: [UInt8], digestKey: [UInt8] = SecureRandom.bytes(32), recoveryDigests: [[UInt8]] = []) {
        self.secret = secret
        self.digestKey = digestKey
        self.recoveryDigests = recoveryDigests
    }

    /// The sealed form for `userID` under `key` (a secret-sealing key).
    func sealed(for userID: UInt64, with key: TokenKey) -> [UInt8] {
        var plain = RecordWriter(version: 1, capacity: 80 + 32 * recoveryDigests.count)
        plain.write(userID)
        plain.write(UInt8(secret.count))
        plain.write(raw: secret)
        plain.write(raw: digestKey)
        plain.write(UInt8(recoveryDigests.count))
        for digest in recoveryDigests { plain.write(raw: digest) }
        var bytes = plain.bytes
        defer { bytes.withUnsafeMutableBytes { ConstantTime.zero($0) } }
        return SecretBox.seal(bytes, key: key.materialBytes)
    }

    /// Opens `sealed` for `userID` with `key`; `nil` when it was sealed under another key, for
    /// another user, or altered.
    init?(opening sealed: [UInt8], for userID: UInt64, with key: TokenKey) {
        guard var plain = SecretBox.open(sealed, key: key.materialBytes) else { return nil }
        defer { plain.withUnsafeMutableBytes { ConstantTime.zero($0) } }
        let decoded: TwoFactorSecrets? = plain.withUnsafeBytes { bytes in
            var reader = RecordReader(bytes)
            guard (try? reader.read(UInt8.self)) == 1, (try? reader.read(UInt64.self)) == userID,
                let secretLength = try? reader.read(UInt8.self), let secret = try? reader.read(raw: Int(secretLength)),
                let digestKey = try? reader.read(raw: 32), let count = try? reader.read(UInt8.self)
            else { return nil }
            var digests: [[UInt8]] = []
            for _ in 0..<count {
                guard let digest = try? reader.read(raw: 32) else { return nil }
                digests.append(Array(digest))
            }
            return TwoFactorSecrets(secret: Array(secret), digestKey: Array(digestKey), recoveryDigests: digests)
        }
        guard let decoded else { return nil }
        self = decoded
    }

    /// The digest a recovery code is kept as.
    func digest(ofRecoveryCode code: String) -> [UInt8] {
        KeyedHash.blake2b(Array(RecoveryCodes.normalized(code).utf8), key: digestKey)
    }

    /// The digest an imported recovery code is kept as, from its SHA-256 (what the other
    /// system stored: Rocket.Chat's `hashedBackup`): keyed BLAKE2b-256 of the 32 raw bytes. A
    /// native code's digest is over its 12 normalized letters, so the two never meet.
    func digest(ofImportedCode sha256: [UInt8]) -> [UInt8] {
        KeyedHash.blake2b(sha256, key: digestKey)
    }

    /// Removes the digest of `code` when it is one of the codes left (compared in constant
    /// time against every one). Returns whether it was. A code matches as Tessera issued it
    /// (normalized) or as another system's import knows it: SHA-256 of the code as typed,
    /// surrounding spaces aside.
    mutating func useRecoveryCode(_ code: String) -> Bool {
        let presented = digest(ofRecoveryCode: code)
        var typed = Array(code.trimmingSpaces.utf8)
        let imported = digest(ofImportedCode: typed.withUnsafeBytes { SHA256.digest($0) })
        typed.withUnsafeMutableBytes { ConstantTime.zero($0) }
        var found: Int?
        for (index, digest) in recoveryDigests.enumerated() {
            let same = digest.withUnsafeBytes { d in
                presented.withUnsafeBytes { ConstantTime.equals($0, d) } || imported.withUnsafeBytes { ConstantTime.equals($0, d) }
            }
            if same && found == nil { found = index }
        }
        guard let found else { return false }
        recoveryDigests.remove(at: found)
        return true
    }
}

/// Recovery codes: ten single-use codes issued when a second factor is confirmed, for when the
/// authenticator is lost. Each is 12 characters of lower-case Base32 (60 random bits) shown as
/// `xxxx-xxxx-xxxx`; hyphens, spaces and case do not matter when one is typed back.
package enum RecoveryCodes {
    package static let count = 10

    /// `count` new codes.
    static func generate() -> [String] {
        (0..<count).map { _ in
            let letters = Array(Base32.encode(SecureRandom.bytes(8)).lowercased().prefix(12))
            return String(letters[0..<4]) + "-" + String(letters[4..<8]) + "-" + String(letters[8..<12])
        }
    }

    /// A code as it is digested: lower case, without hyphens or spaces.
    static func normalized(_ code: String) -> String {
        String(code.lowercased().filter { $0 != "-" && $0 != " " })
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    fileprivate var trimmingSpaces: Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
