import SodiumKit
import TesseraModel

/// A token another system issued and IMPORT_USERS brought in: a login token (Rocket.Chat's
/// `authToken`, Unleash's signed `unleash-session` cookie) that is now a session here, or a
/// personal access token that is now an API key. The client goes on presenting the token it
/// holds, in its own format.
///
/// Such systems keep the SHA-256 of the token (Rocket.Chat's `hashedToken`), so SHA-256 of the
/// token's text is all an import can know and all verify needs: it plays the part of a native
/// token's 32-byte secret. The record's id is derived from it (the first 16 bytes of BLAKE2b-256
/// keyed with a fixed label), and the record stores its digest under a token-digest key of the
/// ring, exactly as for a native token's secret (`Protocol/PROTOCOL.md` section 10): the
/// database holds neither the token nor the other system's digest, and retiring the key ends
/// the session as it ends native ones.
///
/// Verify tries this form only for a text that is not a native token, and only once an import
/// has brought tokens in (``TesseraStore/holdsImportedTokens``): a native token's path is
/// unchanged.
struct ImportedToken: Sendable {
    /// SHA-256 of the token's text, as four words (kept off the heap).
    var secret: (UInt64, UInt64, UInt64, UInt64)
    /// The session's or API key's id: derived from ``secret``.
    let id: SessionID

    /// The key of the id's derivation: "tessera imported token id v1", zero-padded to 32 bytes.
    private static let idLabel: (UInt64, UInt64, UInt64, UInt64) = {
        var label = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let text = Array("tessera imported token id v1".utf8)
        withUnsafeMutableBytes(of: &label) { label in text.withUnsafeBytes { label.copyMemory(from: $0) } }
        return label
    }()

    /// The token as a client presents it (its UTF-8 text). Never allocates.
    @inline(__always)
    init(text: UnsafeRawBufferPointer) {
        var secret = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &secret) { SHA256.digest(text, into: $0) }
        self.init(secret: secret)
    }

    /// The token known by its SHA-256 (32 bytes), as an import brings it.
    init?(sha256 digest: [UInt8]) {
        guard digest.count == 32 else { return nil }
        var secret = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        withUnsafeMutableBytes(of: &secret) { secret in digest.withUnsafeBytes { secret.copyMemory(from: $0) } }
        self.init(secret: secret)
    }

    private init(secret: (UInt64, UInt64, UInt64, UInt64)) {
        self.secret = secret
        var derived = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        var label = Self.idLabel
        var input = secret
        withUnsafeBytes(of: &input) { input in
            withUnsafeBytes(of: &label) { key in
                withUnsafeMutableBytes(of: &derived) { KeyedHash.blake2bOneBlock(input, key: key, into: $0) }
            }
        }
        id = withUnsafeBytes(of: &derived) { SessionID(raw: $0) }
    }

    /// Writes the stored digest under `key` into `output` (32 bytes): a native token's
    /// construction over ``secret``.
    @inline(__always)
    func digest(with key: TokenKey, into output: UnsafeMutableRawBufferPointer) {
        var secret = self.secret
        withUnsafeBytes(of: &secret) { key.digest(secret: $0, into: output) }
    }

    /// The digest as an array (for storing).
    func digest(with key: TokenKey) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBytes { digest(with: key, into: $0) }
        return out
    }
}
