import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

#if canImport(Glibc)
import Glibc
#endif

/// A JSON value with explicit nulls (Codable's optionals would drop the key): the APIs' shapes
/// say `null` where a value is absent.
enum JSON: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral
{
    case string(String)
    case int(Int64)
    /// A finite number: a whole one is written as an integer.
    case number(Double)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int64) { self = .int(value) }
    init(dictionaryLiteral elements: (String, JSON)...) { self = .object(Dictionary(uniqueKeysWithValues: elements)) }
    init(arrayLiteral elements: JSON...) { self = .array(elements) }

    /// A string, or `null`.
    static func string(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }
    /// An RFC 3339 date-time with milliseconds, or `null`.
    static func date(_ milliseconds: Int64?) -> JSON { milliseconds.map { .string(Self.iso8601($0)) } ?? .null }

    /// A date as the APIs write them, or `null`.
    static func date(_ date: Date?) -> JSON { date.map { .string(Self.iso8601($0.milliseconds)) } ?? .null }

    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, by hand: a Foundation date formatter costs tens of
    /// microseconds to make, more than the rest of a request.
    static func iso8601(_ milliseconds: Int64) -> String {
        var seconds = time_t(milliseconds.dividedFloor(by: 1000))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let millis = Int32(milliseconds - Int64(seconds) * 1000)
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(millis, 3))Z"
    }
}

extension JSON {
    /// The value's JSON text (RFC 8259), keys sorted so the same value always makes the same
    /// bytes. Written by hand: `JSONEncoder` took a fifth of the gateway's time per request.
    func write(into buffer: inout ByteBuffer) {
        switch self {
        case .string(let value): Self.write(string: value, into: &buffer)
        case .int(let value): buffer.writeString(String(value))
        case .number(let value):
            if let whole = AttributeValue.wholeNumber(value) {
                buffer.writeString(String(whole))
            } else {
                buffer.writeString(value.isFinite ? String(value) : "null")
            }
        case .bool(let value): buffer.writeStaticString(value ? "true" : "false")
        case .null: buffer.writeStaticString("null")
        case .array(let values):
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                value.write(into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let fields):
            buffer.writeInteger(UInt8(ascii: "{"))
            for (index, key) in fields.keys.sorted().enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                Self.write(string: key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                fields[key]!.write(into: &buffer)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }

    /// A JSON string: quotes and backslashes escaped, control characters as `\n`, `\r`, `\t` or
    /// `\u00XX`, the rest as UTF-8.
    private static func write(string: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { bytes in
            // Runs of bytes that need no escape are copied whole.
            var run = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[run..<index])))
                run = index + 1
                switch byte {
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                case 0..<0x20:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 15)])
                default:
                    buffer.writeInteger(UInt8(ascii: "\\"))
                    buffer.writeInteger(byte)
                }
            }
            buffer.writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[run...])))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}

extension Response {
    /// A JSON response.
    static func json(_ status: HTTPResponse.Status, _ value: JSON, headers: HTTPFields = [:]) -> Response {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(512)
        value.write(into: &buffer)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: buffer))
    }
}

/// Reading a request's JSON body into a `Decodable` shape.
enum RequestBody {
    /// The largest body the login APIs read.
    static let maximumBytes = 64 * 1024

    /// The body as `T`; `nil` when it is missing, too large, not declared JSON
    /// (``isJSON(_:)``), not JSON, or not of `T`'s shape.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async -> T? {
        guard isJSON(request.headers[.contentType]) else { return nil }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: maximumBytes), buffer.readableBytes > 0 else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }

    /// The body as a JSON value (RFC 8259, strictly: a key twice is refused); `nil` when it is
    /// missing, too large, not declared JSON or not JSON. For APIs that must name every field
    /// they do not take, which a `Decodable` shape would skip without a word.
    static func value(from request: Request) async -> JSONValue? {
        guard isJSON(request.headers[.contentType]) else { return nil }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: maximumBytes), buffer.readableBytes > 0 else { return nil }
        return try? buffer.withUnsafeReadableBytes { try JSONValue.parse($0) }
    }
}

extension RequestBody {
    /// Whether a `Content-Type` declares JSON: `application/json` or `application/…+json`
    /// (`application/json-patch+json`, which /v1/auth's clients send), parameters ignored. A
    /// login in any other type is refused: an HTML form can post `text/plain`,
    /// `application/x-www-form-urlencoded` and `multipart/form-data` across sites without asking
    /// (no CORS preflight), and a JSON body sent as `text/plain` would log the visitor's browser
    /// into the attacker's account (login CSRF).
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased()
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}

extension Int64 {
    /// Division rounding toward negative infinity (a date before 1970 keeps positive milliseconds).
    fileprivate func dividedFloor(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor < 0) ? quotient - 1 : quotient
    }
}

extension Date {
    /// Unix milliseconds, as the daemon counts them (the client's dates are whole milliseconds).
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
