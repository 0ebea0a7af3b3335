import SodiumKit

/// The key that seals the token keys at rest. It lives in its own file (mode 0600, outside the
/// data directory), so a copy of the data directory alone yields no key.
///
/// File format: 64 hexadecimal digits and a newline.
public struct MasterKey: Sendable {
    let bytes: [UInt8]

    /// A new random key.
    public static func generate() -> MasterKey {
        MasterKey(bytes: SecureRandom.bytes(32))
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == SecretBox.keyLength)
        self.bytes = bytes
    }

    /// Reads the file form; `nil` for anything but 64 hexadecimal digits (and whitespace).
    public init?(fileText: String) {
        let digits = Array(fileText.utf8.filter { !($0 == 10 || $0 == 13 || $0 == 32 || $0 == 9) })
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes: bytes)
    }

    /// The file form: 64 hexadecimal digits and a newline.
    public var fileText: String {
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: bytes.flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] } + [10], as: UTF8.self)
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

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
