import SodiumKit
import TesseraModel

/// The key that seals the token keys at rest. It lives in its own file (mode 0600, outside the
/// data directory), so a copy of the data directory alone yields no key.
///
/// File format: 64 hexadecimal digits and a newline.
@_spi(TesseraInternal) public struct MasterKey: Sendable {
    let bytes: [UInt8]

    /// A new random key.
    package static func generate() -> MasterKey {
        MasterKey(bytes: SecureRandom.bytes(32))
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == SecretBox.keyLength)
        self.bytes = bytes
    }

    /// Reads the file form; `nil` for anything but 64 hexadecimal digits (and whitespace).
    package init?(fileText: String) {
        let digits = String(decoding: fileText.utf8.filter { !($0 == 10 || $0 == 13 || $0 == 32 || $0 == 9) }, as: UTF8.self)
        guard digits.utf8.count == 64, let bytes = Hex.parse(digits) else { return nil }
        self.init(bytes: bytes)
    }

    /// The file form: 64 hexadecimal digits and a newline.
    package var fileText: String {
        Hex.format(bytes) + "\n"
    }

    /// `material` sealed (XSalsa20-Poly1305, a random nonce).
    func seal(_ material: [UInt8]) -> [UInt8] {
        SecretBox.seal(material, key: bytes)
    }

    /// The material of `box`, or `nil` when it was not sealed under this key.
    func open(_ box: [UInt8]) -> [UInt8]? {
        SecretBox.open(box, key: bytes)
    }

    /// A keyed digest of a fixed text, stored beside the keys: opening a data directory with
    /// another master key is recognized at once, even with no key to unseal.
    var check: [UInt8] {
        KeyedHash.blake2b(Array("tessera master key check v1".utf8), key: bytes)
    }
}
