/// A JSON value (RFC 8259), read strictly: what the importers read their sources with.
///
/// Foundation's `JSONSerialization` builds bridged dictionaries and strings, which on Linux cost
/// more than everything else an import does with a record; this reader builds Swift values
/// straight from the bytes. It refuses what RFC 8259 does not allow (trailing commas, comments,
/// single quotes, leading zeros, invalid UTF-8, unpaired surrogates, bare control characters),
/// an object naming the same key twice (which of the two a reader keeps is not defined, and a
/// user record must not mean two things), text after the value, and nesting deeper than
/// ``maximumDepth``.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number written without a fraction or an exponent that fits in 64 bits.
    case integer(Int64)
    /// Any other number.
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The most arrays and objects one inside another.
    public static let maximumDepth = 64

    /// Why a text is not one JSON value, and where (a byte offset from 0).
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let reason: String
        public let offset: Int
        public var description: String { "\(reason) at byte \(offset)" }
    }

    /// The one value `bytes` holds (white space around it allowed).
    public static func parse(_ bytes: some Sequence<UInt8>) throws(ParseError) -> JSONValue {
        let result: Result<JSONValue, ParseError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(ParseError) in try parse(UnsafeRawBufferPointer(buffer)) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBytes { buffer in Result { () throws(ParseError) in try parse(buffer) } }.get()
    }

    /// The one value `buffer` holds (white space around it allowed).
    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(ParseError) -> JSONValue {
        var reader = Reader(buffer)
        let value = try reader.value(depth: 0)
        reader.skipSpace()
        guard reader.offset == buffer.count else { throw reader.error("text after the value") }
        return value
    }

    /// The string, or `nil` for another kind of value.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The object's members, or `nil` for another kind of value.
    public var object: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The array's elements, or `nil` for another kind of value.
    public var array: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// The whole number, or `nil` for another kind of value (a fraction, a boolean, a string).
    public var integer: Int64? {
        if case .integer(let number) = self { return number }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool { self == .null }
}

/// The reading state: a position in the bytes.
private struct Reader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func error(_ reason: String) -> JSONValue.ParseError { JSONValue.ParseError(reason: reason, offset: offset) }

    var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    mutating func skipSpace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0a, 0x0d: offset += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        skipSpace()
        guard let byte = current else { throw error("a value was expected (truncated text)") }
        switch byte {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): return try literal("true", .bool(true))
        case UInt8(ascii: "f"): return try literal("false", .bool(false))
        case UInt8(ascii: "n"): return try literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("a value was expected")
        }
    }

    mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONValue.ParseError) -> JSONValue {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - offset >= expected.count, expected.indices.allSatisfy({ bytes[offset + $0] == expected[$0] }) else {
            throw error("a value was expected")
        }
        offset += expected.count
        return value
    }

    mutating func object(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard depth <= JSONValue.maximumDepth else { throw error("nested deeper than \(JSONValue.maximumDepth)") }
        offset += 1
        // Room for a typical record's fields at once, rather than growing through 1, 2, 4, 8.
        var members: [String: JSONValue] = Dictionary(minimumCapacity: 8)
        skipSpace()
        if current == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard current == UInt8(ascii: "\"") else { throw error("a member name in quotes was expected") }
            let keyOffset = offset
            let key = try string()
            skipSpace()
            guard current == UInt8(ascii: ":") else { throw error("':' was expected") }
            offset += 1
            let member = try value(depth: depth)
            guard members.updateValue(member, forKey: key) == nil else {
                throw JSONValue.ParseError(reason: "the key \"\(key)\" appears twice", offset: keyOffset)
            }
            skipSpace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "}"):
                offset += 1
                return .object(members)
            default: throw error("',' or '}' was expected")
            }
        }
    }

    mutating func array(depth: Int) throws(JSONValue.ParseError) -> JSONValue {
        guard depth <= JSONValue.maximumDepth else { throw error("nested deeper than \(JSONValue.maximumDepth)") }
        offset += 1
        var elements: [JSONValue] = []
        skipSpace()
        if current == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth))
            skipSpace()
            switch current {
            case UInt8(ascii: ","): offset += 1
            case UInt8(ascii: "]"):
                offset += 1
                return .array(elements)
            default: throw error("',' or ']' was expected")
            }
        }
    }

    /// The string starting at the opening quote.
    mutating func string() throws(JSONValue.ParseError) -> String {
        offset += 1
        let start = offset
        // Fast path: no escape, the bytes are the string's UTF-8.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self) else {
                    throw JSONValue.ParseError(reason: "a string that is not UTF-8", offset: start)
                }
                offset += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("a control character in a string") }
            offset += 1
        }
        guard offset < bytes.count else { throw error("an unterminated string") }
        var utf8 = Array(bytes[start..<offset])
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw JSONValue.ParseError(reason: "a string that is not UTF-8", offset: start)
                }
                offset += 1
                return text
            case UInt8(ascii: "\\"):
                offset += 1
                try escape(into: &utf8)
            case 0..<0x20:
                throw error("a control character in a string")
            default:
                utf8.append(byte)
                offset += 1
            }
        }
        throw error("an unterminated string")
    }

    /// The escape after a backslash, appended as UTF-8.
    mutating func escape(into utf8: inout [UInt8]) throws(JSONValue.ParseError) {
        guard let byte = current else { throw error("an unterminated string") }
        offset += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0c)
        case UInt8(ascii: "n"): utf8.append(0x0a)
        case UInt8(ascii: "r"): utf8.append(0x0d)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = UInt32(try hex4())
            if (0xd800..<0xdc00).contains(scalar) {
                guard bytes.count - offset >= 2, bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") else {
                    throw error("an unpaired surrogate")
                }
                offset += 2
                let low = UInt32(try hex4())
                guard (0xdc00..<0xe000).contains(low) else { throw error("an unpaired surrogate") }
                scalar = 0x10000 + ((scalar - 0xd800) << 10) + (low - 0xdc00)
            } else if (0xdc00..<0xe000).contains(scalar) {
                throw error("an unpaired surrogate")
            }
            utf8.append(contentsOf: Unicode.UTF8.encode(Unicode.Scalar(scalar)!)!)
        default:
            throw error("an unknown escape")
        }
    }

    mutating func hex4() throws(JSONValue.ParseError) -> UInt16 {
        guard bytes.count - offset >= 4 else { throw error("four hexadecimal digits were expected") }
        var value: UInt16 = 0
        for _ in 0..<4 {
            guard let digit = Hex.nibble(bytes[offset]) else { throw error("four hexadecimal digits were expected") }
            value = value << 4 | UInt16(digit)
            offset += 1
        }
        return value
    }

    mutating func number() throws(JSONValue.ParseError) -> JSONValue {
        let start = offset
        var negative = false
        if current == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        guard let first = current, isDigit(first) else { throw error("a digit was expected") }
        // The magnitude, negative as it goes so that Int64.min fits.
        var integer: Int64 = 0
        var fits = true
        if first == UInt8(ascii: "0") {
            offset += 1
            if let next = current, isDigit(next) { throw error("a number with a leading zero") }
        } else {
            while let digit = current, isDigit(digit) {
                if fits {
                    let (times, overflow1) = integer.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times.subtractingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
                    if overflow1 || overflow2 { fits = false } else { integer = sum }
                }
                offset += 1
            }
        }
        var whole = true
        if current == UInt8(ascii: ".") {
            whole = false
            offset += 1
            guard let digit = current, isDigit(digit) else { throw error("a digit was expected after '.'") }
            while let digit = current, isDigit(digit) { offset += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            whole = false
            offset += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
            guard let digit = current, isDigit(digit) else { throw error("a digit was expected in the exponent") }
            while let digit = current, isDigit(digit) { offset += 1 }
        }
        if whole && fits {
            if negative { return .integer(integer) }
            if integer != .min { return .integer(-integer) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let double = Double(text), double.isFinite else { throw JSONValue.ParseError(reason: "a number out of range", offset: start) }
        return .double(double)
    }

    func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
