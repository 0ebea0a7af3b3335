/// An API key as a client holds it: `tsk_` followed by a token of the session token's layout
/// (68 characters of URL-safe Base64) whose version byte is 3:
/// `version=3 | digest key id (u16) | API key id (16 bytes) | secret (32 bytes)`.
///
/// The prefix lets VERIFY tell an API key from a session token by its length alone, and lets
/// secret scanners recognize a leaked key. The secret carries 256 bits, so, as for session
/// tokens, the database keeps only its keyed BLAKE2b-256 digest and verifying costs no argon2id.
enum APIKeyCredential {
    static let version: UInt8 = 3
    static let prefix: [UInt8] = Array("tsk_".utf8)
    static let textLength = prefix.count + SessionToken.textLength
    /// How many leading characters identify a key in listings (not secret: they encode the
    /// version, the digest key id and the start of the key id).
    static let displayPrefixLength = 12

    /// Whether `text` has an API key's length and prefix (cheap: checked before any decoding).
    @inline(__always)
    static func matches(_ text: UnsafeRawBufferPointer) -> Bool {
        text.count == textLength && text[0] == prefix[0] && text[1] == prefix[1] && text[2] == prefix[2] && text[3] == prefix[3]
    }

    /// The token inside an API key's text; `nil` for anything else. Never allocates.
    @inline(__always)
    static func parse(_ text: UnsafeRawBufferPointer) -> SessionToken? {
        guard matches(text) else { return nil }
        return SessionToken.parse(UnsafeRawBufferPointer(rebasing: text[prefix.count...]), kind: version)
    }

    static func parse(_ text: String) -> SessionToken? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// The text a client holds.
    static func text(_ token: SessionToken) -> String {
        "tsk_" + token.text
    }
}
