/// A session's id: 16 bytes, not a secret. Session lists show it (as 32 hexadecimal digits)
/// and ``TesseraClient/revokeSession(_:sessionToken:)`` takes it.
public typealias SessionID = Identifier<Identifiers.Session>

/// An API key's id: 16 bytes, not a secret (the key's text carries its secret). API key lists
/// show it (as 32 hexadecimal digits) and ``TesseraClient/revokeAPIKey(_:sessionToken:)`` takes
/// it. A different type from ``SessionID``: one cannot be passed for the other.
public typealias APIKeyID = Identifier<Identifiers.APIKey>

/// What an ``Identifier`` names.
public enum Identifiers {
    public enum Session {}
    public enum APIKey {}
}

/// A 16-byte id of one kind of thing (``SessionID``, ``APIKeyID``), shown as 32 lower-case
/// hexadecimal digits.
public struct Identifier<Kind>: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes.
    public let bytes: [UInt8]

    /// `nil` unless `bytes` holds exactly 16 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses 32 hexadecimal digits (either case).
    public init?(hex: String) {
        guard let bytes = HexID.parse(hex) else { return nil }
        self.bytes = bytes
    }

    /// 32 lower-case hexadecimal digits.
    public var description: String { HexID.format(bytes) }
}

/// 16-byte ids as 32 hexadecimal digits: the one place the client reads and writes them.
enum HexID {
    static func parse(_ hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for index in stride(from: 0, to: 32, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func format(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
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
