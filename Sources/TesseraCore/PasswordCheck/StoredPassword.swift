import CryptKit
import Foundation
import SodiumKit

/// A stored password hash by its scheme: Tessera's own argon2id, or one a user brought from
/// another system (issue 23), each checked by the library made for it. A foreign hash is checked
/// once: the first right password replaces it with Tessera's argon2id in the same commit as the
/// login (``PasswordCheck``).
///
/// The stored text is the other system's own (`$2b$10$…`, `pbkdf2_sha256$…`), except for a hash
/// made over the lower-case hex of the password's SHA-256 (Meteor's accounts, Rocket.Chat), which
/// is `sha256-hex:` followed by it, and stays so after the re-hash: its clients may send that hex
/// instead of the password.
package indirect enum StoredPassword: Equatable, Sendable {
    /// argon2id or argon2i, as a PHC string (libsodium): Tessera's own, or imported.
    case argon2(String)
    /// bcrypt, sha256crypt, sha512crypt or yescrypt (libxcrypt).
    case crypt(String)
    /// PBKDF2-HMAC-SHA-256 (Django's `pbkdf2_sha256$ITERATIONS$SALT$BASE64`, passlib's
    /// `$pbkdf2-sha256$ITERATIONS$SALT$CHECKSUM` in its adapted base64).
    case pbkdf2SHA256(text: String, iterations: Int, salt: [UInt8], digest: [UInt8])
    /// Any of these, made over the lower-case hex of the password's SHA-256.
    case overSHA256Hex(StoredPassword)

    /// What marks a hash made over the password's SHA-256 hex.
    package static let sha256HexPrefix = "sha256-hex:"

    /// The scheme of `text`, or `nil` when Tessera checks no such hash.
    package init?(parsing text: String) {
        if text.hasPrefix(Self.sha256HexPrefix) {
            guard let inner = StoredPassword(parsing: String(text.dropFirst(Self.sha256HexPrefix.count))) else { return nil }
            if case .overSHA256Hex = inner { return nil }
            self = .overSHA256Hex(inner)
        } else if text.hasPrefix("$argon2id$") || text.hasPrefix("$argon2i$") {
            self = .argon2(text)
        } else if CryptHash.recognizes(text) {
            self = .crypt(text)
        } else if let pbkdf2 = Self.pbkdf2(text) {
            self = pbkdf2
        } else {
            return nil
        }
    }

    /// What an unrecognised hash looks like, for an error message, without any of its secret
    /// part: its prefix up to the second `$` (`$1$`, `$md5`), else its first characters' kind.
    package static func describe(_ text: String) -> String {
        if text.isEmpty { return "empty" }
        if text.hasPrefix("$") {
            let method = text.dropFirst().prefix { $0 != "$" }.prefix(16)
            return "method \"$\(method)$\""
        }
        if let separator = text.firstIndex(where: { $0 == "$" || $0 == ":" }), text.distance(from: text.startIndex, to: separator) <= 24 {
            return "prefix \"\(text[..<separator])\""
        }
        return "\(text.count) characters, no known prefix"
    }

    /// The text stored for this hash.
    package var text: String {
        switch self {
        case .argon2(let text), .crypt(let text), .pbkdf2SHA256(let text, _, _, _): text
        case .overSHA256Hex(let inner): Self.sha256HexPrefix + inner.text
        }
    }

    /// Whether `password` is the one this hash was made from. With `form` `.sha256Hex`, `password`
    /// is the password's SHA-256 as 64 lower-case hex digits: only a hash made over that hex
    /// (``overSHA256Hex(_:)``) can match it; any other is checked all the same (the same cost)
    /// and matches nothing.
    package func verify(_ password: SecretBytes, as form: PasswordForm = .plain, hasher: PasswordHasher) -> Bool {
        switch (self, form) {
        case (.overSHA256Hex(let inner), .sha256Hex):
            return inner.verify(password, hasher: hasher)
        case (_, .plain):
            return verifyPlain(password, hasher: hasher)
        case (_, .sha256Hex):
            _ = verifyPlain(password, hasher: hasher)
            return false
        }
    }

    private func verifyPlain(_ password: SecretBytes, hasher: PasswordHasher) -> Bool {
        switch self {
        case .argon2(let text):
            return hasher.verify(password, against: text)
        case .crypt(let text):
            return password.withUnsafeBytes { CryptHash.verify($0, against: text) }
        case .pbkdf2SHA256(_, let iterations, let salt, let digest):
            let computed = password.withUnsafeBytes { PBKDF2.sha256(password: $0, salt: salt, iterations: iterations, length: digest.count) }
            return computed.count == digest.count
                && computed.withUnsafeBytes { a in digest.withUnsafeBytes { b in ConstantTime.equals(a, b) } }
        case .overSHA256Hex(let inner):
            return inner.verify(SHA256.lowercaseHex(of: password), hasher: hasher)
        }
    }

    /// Whether a right password should replace this hash: anything but argon2id at `hasher`'s
    /// parameters (over the SHA-256 hex, the hash inside it).
    package func needsRehash(_ hasher: PasswordHasher) -> Bool {
        switch self {
        case .argon2(let text): hasher.needsRehash(text)
        case .crypt, .pbkdf2SHA256: true
        case .overSHA256Hex(let inner): inner.needsRehash(hasher)
        }
    }

    /// The hash that replaces this one, from the right `password`: argon2id at `hasher`'s
    /// parameters, over the SHA-256 hex again when this one was.
    package func replacement(for password: SecretBytes, as form: PasswordForm = .plain, hasher: PasswordHasher) throws -> String {
        switch (self, form) {
        case (.overSHA256Hex, .plain): Self.sha256HexPrefix + (try hasher.hash(SHA256.lowercaseHex(of: password)))
        case (.overSHA256Hex, .sha256Hex): Self.sha256HexPrefix + (try hasher.hash(password))
        default: try hasher.hash(password)
        }
    }

    /// Whether this is another system's scheme (crypt or PBKDF2, over the SHA-256 hex or not):
    /// a hash whose check costs what Tessera's argon2id does not, until it is replaced.
    package var isForeign: Bool { costKey != nil }

    /// What sets the cost of checking this hash, the same for every hash that costs the same:
    /// the method and its cost parameter (`$2b$12`, `$6$rounds=10000`, `$y$j9T`), PBKDF2's
    /// iterations and length. `nil` for argon2 (Tessera's own scheme). The SHA-256 before the
    /// inner hash costs next to nothing and is left out.
    package var costKey: String? {
        switch self {
        case .argon2: return nil
        case .overSHA256Hex(let inner): return inner.costKey
        case .pbkdf2SHA256(_, let iterations, _, let digest): return "pbkdf2-sha256$\(iterations)$\(digest.count)"
        case .crypt(let text):
            // `$method$param$…`: the first three `$`, found in the bytes (this runs for every
            // imported user).
            let bytes = text.utf8
            var dollars: [String.Index] = []
            var index = bytes.startIndex
            while index < bytes.endIndex, dollars.count < 3 {
                if bytes[index] == UInt8(ascii: "$") { dollars.append(index) }
                index = bytes.index(after: index)
            }
            guard dollars.count == 3 else { return text }
            let method = text[bytes.index(after: dollars[0])..<dollars[1]]
            let parameter = text[bytes.index(after: dollars[1])..<dollars[2]]
            let costed = ["2a", "2b", "2y", "y"].contains(method) || parameter.hasPrefix("rounds=")
            return String(text[..<(costed ? dollars[2] : dollars[1])])
        }
    }

    /// A hash of the same scheme and cost that no known password gives (crypt: made of a random
    /// password then forgotten, with this hash's salt; PBKDF2: a random salt and digest):
    /// checking a password against it costs what checking against this one does, and it tells
    /// nothing about this one's password. `nil` for argon2.
    package func dummy() -> StoredPassword? {
        let password = Array(Base64URL.encode(SecureRandom.bytes(32)).utf8)
        switch self {
        case .argon2: return nil
        case .overSHA256Hex(let inner): return inner.dummy().map { .overSHA256Hex($0) }
        case .crypt(let text):
            return password.withUnsafeBytes { CryptHash.hash($0, setting: text) }.map { .crypt($0) }
        case .pbkdf2SHA256(_, let iterations, _, let digest):
            let salt = Array(Base64URL.encode(SecureRandom.bytes(16)).utf8)
            // Random bytes for the digest: no password gives them, and checking costs the same.
            let text =
                "pbkdf2_sha256$\(iterations)$\(String(decoding: salt, as: UTF8.self))$\(Data(SecureRandom.bytes(digest.count)).base64EncodedString())"
            return StoredPassword(parsing: text)
        }
    }

    /// Django's and passlib's PBKDF2-SHA-256 forms.
    private static func pbkdf2(_ text: String) -> StoredPassword? {
        let parts = text.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        let iterationsText: String
        let salt: [UInt8]
        let digest: [UInt8]
        if parts.count == 4, parts[0] == "pbkdf2_sha256" {
            // Django: the salt is used as its text; the digest is standard base64.
            guard let decoded = Data(base64Encoded: parts[3]) else { return nil }
            (iterationsText, salt, digest) = (parts[1], Array(parts[2].utf8), Array(decoded))
        } else if parts.count == 5, parts[0].isEmpty, parts[1] == "pbkdf2-sha256" {
            // passlib: adapted base64 ('.' for '+', no padding) for both salt and checksum.
            guard let decodedSalt = adaptedBase64(parts[3]), let decodedDigest = adaptedBase64(parts[4]) else { return nil }
            (iterationsText, salt, digest) = (parts[2], decodedSalt, decodedDigest)
        } else {
            return nil
        }
        guard let iterations = Int(iterationsText), (1...PBKDF2.maximumIterations).contains(iterations), (16...64).contains(digest.count)
        else { return nil }
        return .pbkdf2SHA256(text: text, iterations: iterations, salt: salt, digest: digest)
    }

    private static func adaptedBase64(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: ".", with: "+")
        while standard.count % 4 != 0 { standard += "=" }
        return Data(base64Encoded: standard).map(Array.init)
    }
}

/// How a login gives its password: as typed, or as the lower-case hex of its SHA-256 (the form
/// Meteor's and Rocket.Chat's clients send), which only a hash made over that hex can check.
package enum PasswordForm: Sendable, Equatable {
    case plain
    case sha256Hex

    /// Whether `password` is a valid `.sha256Hex` text: 64 lower-case hex digits.
    package static func isSHA256Hex(_ password: [UInt8]) -> Bool {
        password.count == 64 && password.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
