import Foundation
import SodiumKit
import TesseraModel

/// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): the second factor an
/// authenticator app shows. Pure logic over an injected time; storing the secret (sealed) and
/// the last step used (replay) is the caller's.
package struct TOTP: Sendable, Equatable {
    /// The shared secret: 20 random bytes for SHA-1, 32 for SHA-256, 64 for SHA-512 (RFC 4226
    /// asks for at least 128 bits and recommends 160).
    package var secret: [UInt8]
    package var algorithm: HMAC.Algorithm
    /// 6 or 8.
    package var digits: Int
    /// Seconds per step (30 by default).
    package var period: Int64

    package init(secret: [UInt8], algorithm: HMAC.Algorithm = .sha1, digits: Int = 6, period: Int64 = 30) {
        precondition(digits == 6 || digits == 8, "a TOTP code has 6 or 8 digits")
        precondition(period > 0)
        self.secret = secret
        self.algorithm = algorithm
        self.digits = digits
        self.period = period
    }

    /// A new random secret of the length `algorithm` calls for.
    package static func generate(algorithm: HMAC.Algorithm = .sha1, digits: Int = 6, period: Int64 = 30) -> TOTP {
        TOTP(secret: SecureRandom.bytes(algorithm.length), algorithm: algorithm, digits: digits, period: period)
    }

    /// The step (counter) `time` falls in.
    package func step(at time: Timestamp) -> Int64 {
        time / 1000 / period
    }

    /// The code of `step` (HOTP, RFC 4226 §5.3: dynamic truncation, then modulo 10^digits).
    package func code(forStep step: Int64) -> String {
        let counter = withUnsafeBytes(of: UInt64(bitPattern: step).bigEndian) { Array($0) }
        let digest = HMAC.authenticate(counter, key: secret, algorithm: algorithm)
        let offset = Int(digest[digest.count - 1] & 0x0F)
        let binary =
            UInt32(digest[offset] & 0x7F) << 24 | UInt32(digest[offset + 1]) << 16 | UInt32(digest[offset + 2]) << 8
            | UInt32(digest[offset + 3])
        let modulus: UInt32 = digits == 8 ? 100_000_000 : 1_000_000
        let value = String(binary % modulus)
        return String(repeating: "0", count: digits - value.count) + value
    }

    /// The code shown at `time`.
    package func code(at time: Timestamp) -> String { code(forStep: step(at: time)) }

    /// The step `code` belongs to when it is the code of the current step or of one step either
    /// side (clock drift), and that step is later than `lastUsedStep` (a code is accepted once:
    /// its replay, or an older code after a newer one, is refused). Every candidate is compared
    /// in constant time.
    package func acceptedStep(of code: String, at time: Timestamp, lastUsedStep: Int64?) -> Int64? {
        guard code.utf8.count == digits, code.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        let current = step(at: time)
        var accepted: Int64?
        for candidate in (current - 1)...(current + 1) {
            let expected = Array(self.code(forStep: candidate).utf8)
            let matches = Array(code.utf8).withUnsafeBytes { given in expected.withUnsafeBytes { ConstantTime.equals(given, $0) } }
            if matches && accepted == nil { accepted = candidate }
        }
        guard let accepted, accepted > (lastUsedStep ?? Int64.min) else { return nil }
        return accepted
    }

    /// The `otpauth://` URI authenticator apps read (as a QR code or a link): label
    /// `issuer:account`, the secret in Base32, and every parameter spelled out (some apps ignore
    /// the defaults).
    package func uri(issuer: String, account: String) -> String {
        let label = Self.escape(issuer) + ":" + Self.escape(account)
        let parameters = [
            "secret=\(Base32.encode(secret))", "issuer=\(Self.escape(issuer))", "algorithm=\(algorithm.rawValue)", "digits=\(digits)",
            "period=\(period)",
        ]
        return "otpauth://totp/\(label)?\(parameters.joined(separator: "&"))"
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    private static func escape(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }
}
