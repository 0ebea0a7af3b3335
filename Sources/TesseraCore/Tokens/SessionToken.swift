import SodiumKit
import TesseraModel

/// A session token: what the client holds and presents on every request.
///
/// Binary layout (51 bytes), sent as 68 characters of URL-safe Base64 without padding:
/// ```
///  0         1              3                         19                          51
///  +---------+--------------+-------------------------+---------------------------+
///  | version | key id (u16) |   session id (16 bytes) |   secret (32 bytes)       |
///  +---------+--------------+-------------------------+---------------------------+
/// ```
/// The secret holds 256 bits from libsodium's CSPRNG. The database keeps only its digest under
/// token key `key id` (BLAKE2b-256 of key ‖ secret; keyed BLAKE2b-256 under keys made before
/// that construction, see ``TokenKey/DigestConstruction``), so neither a copy of the file nor a
/// backup yields a usable token. The key id lets keys rotate without changing clients.
@_spi(TesseraInternal) public struct SessionToken: Sendable {
    /// The version byte of access (session) tokens.
    @_spi(TesseraInternal) public static let version: UInt8 = 1
    /// The version byte of refresh tokens: same layout, never accepted where an access token is expected.
    package static let refreshVersion: UInt8 = 2
    package static let binaryLength = 51
    package static let textLength = 68
    package static let secretLength = 32

    /// ``version`` or ``refreshVersion``.
    package var kind: UInt8 = SessionToken.version
    package var keyID: UInt16
    package var sessionID: SessionID
    /// The 32-byte secret as four words (kept off the heap).
    var secret: (UInt64, UInt64, UInt64, UInt64)

    /// A new token with a session id made at `now` and a random secret under key `keyID`.
    static func generate(keyID: UInt16, kind: UInt8 = SessionToken.version, now: Timestamp) -> SessionToken {
        var secret = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &secret) { SecureRandom.fill($0) }
        return SessionToken(kind: kind, keyID: keyID, sessionID: .random(now: now), secret: secret)
    }

    /// Parses the 68-character text form. `nil` for anything else: wrong length, bad Base64,
    /// unknown version. Never allocates.
    @inline(__always)
    @_spi(TesseraInternal) public static func parse(_ text: UnsafeRawBufferPointer, kind: UInt8 = SessionToken.version) -> SessionToken? {
        guard text.count == textLength else { return nil }
        var raw: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &raw) { buffer -> SessionToken? in
            guard TokenText.decode(text, into: buffer), buffer[0] == kind else { return nil }
            let keyID = UInt16(buffer[1]) << 8 | UInt16(buffer[2])
            let base = UnsafeRawPointer(buffer.baseAddress!)
            let session = SessionID(raw: UnsafeRawBufferPointer(start: base + 3, count: 16))
            var secret = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
            withUnsafeMutableBytes(of: &secret) { $0.copyMemory(from: UnsafeRawBufferPointer(start: base + 19, count: 32)) }
            ConstantTime.zero(buffer)
            return SessionToken(kind: kind, keyID: keyID, sessionID: session, secret: secret)
        }
    }

    /// Parses the text form.
    package static func parse(_ text: String, kind: UInt8 = SessionToken.version) -> SessionToken? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0), kind: kind) }
    }

    /// The 68-character text form.
    package var text: String {
        var bytes = [UInt8](repeating: 0, count: Self.binaryLength)
        bytes[0] = kind
        bytes[1] = UInt8(keyID >> 8)
        bytes[2] = UInt8(keyID & 0xff)
        sessionID.withUnsafeBytes { id in for i in 0..<16 { bytes[3 + i] = id[i] } }
        var secret = self.secret
        withUnsafeBytes(of: &secret) { s in for i in 0..<32 { bytes[19 + i] = s[i] } }
        defer { bytes.withUnsafeMutableBytes { ConstantTime.zero($0) } }
        return Base64URL.encode(bytes)
    }

    /// Writes the secret's digest under `key` into `output` (32 bytes).
    @inline(__always)
    func digest(with key: TokenKey, into output: UnsafeMutableRawBufferPointer) {
        var secret = self.secret
        withUnsafeBytes(of: &secret) { key.digest(secret: $0, into: output) }
    }

    /// The key that seals a refresh token's successors for the grace window: derived from the
    /// secret (which only the token's holder has) and the server key, unrelated to the digest.
    func graceKey(with key: TokenKey) -> [UInt8] {
        var secret = self.secret
        let input = withUnsafeBytes(of: &secret) { Array($0) } + Array("tessera-refresh-grace-v1".utf8)
        return KeyedHash.blake2b(input, key: key.materialBytes)
    }

    /// The digest as an array (for storing).
    func digest(with key: TokenKey) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { digest(with: key, into: $0) }
        return out
    }
}
