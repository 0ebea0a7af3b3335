import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TesseraClient

/// A JSON value with explicit nulls (Codable's optionals would drop the key): the APIs' shapes
/// say `null` where a value is absent. An object keeps its members in the order written, which
/// is the order of the API's documentation: no hashing, no sorting on the way out.
enum JSON: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral
{
    case string(String)
    case int(Int64)
    /// A finite number: a whole one is written as an integer.
    case number(Double)
    case bool(Bool)
    /// A date, Unix milliseconds, written as RFC 3339 with milliseconds (``JSONText/write(timestamp:)``).
    case timestamp(Int64)
    case null
    case array([JSON])
    case object(JSONObject)

    init(stringLiteral value: String) { self = .string(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(integerLiteral value: Int64) { self = .int(value) }
    init(dictionaryLiteral elements: (String, JSON)...) { self = .object(JSONObject(elements)) }
    init(arrayLiteral elements: JSON...) { self = .array(elements) }

    /// A string, or `null`.
    static func string(_ value: String?) -> JSON { value.map(JSON.string) ?? .null }
    /// An RFC 3339 date-time with milliseconds, or `null`.
    static func date(_ milliseconds: Int64?) -> JSON { milliseconds.map(JSON.timestamp) ?? .null }

    /// A date as the APIs write them, or `null`.
    static func date(_ date: Date?) -> JSON { date.map { .timestamp($0.milliseconds) } ?? .null }
}

/// A JSON object's members in the order they were written. Setting a key already present
/// replaces its value in place; objects here hold a few dozen members at most, so a key is found
/// by a scan. The members are the literal's own array of pairs, kept as written: copying them
/// into an array of a member struct cost a second allocation and a copy of every member.
struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    private(set) var members: [(String, JSON)]

    init(_ members: [(String, JSON)]) {
        self.members = members
        assert(Set(members.map(\.0)).count == members.count, "a JSON object names a member twice")
    }

    init(dictionaryLiteral elements: (String, JSON)...) { self.init(elements) }

    static func == (left: JSONObject, right: JSONObject) -> Bool {
        left.members.elementsEqual(right.members) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    subscript(key: String) -> JSON? {
        get { members.first { $0.0 == key }?.1 }
        set {
            let index = members.firstIndex { $0.0 == key }
            switch (index, newValue) {
            case (let index?, let value?): members[index].1 = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append((key, value))
            case (nil, nil): break
            }
        }
    }
}

extension JSON {
    /// The value's JSON text (RFC 8259), an object's members in their order.
    func write(into text: inout JSONText) {
        switch self {
        case .string(let value): text.write(string: value)
        case .int(let value): text.write(integer: value)
        case .number(let value):
            if let whole = AttributeValue.wholeNumber(value) {
                text.write(integer: whole)
            } else {
                text.write(ascii: value.isFinite ? String(value) : "null")
            }
        case .bool(let value): text.write(ascii: value ? "true" : "false")
        case .timestamp(let milliseconds): text.write(timestamp: milliseconds)
        case .null: text.write(ascii: "null")
        case .array(let values):
            text.write(byte: UInt8(ascii: "["))
            for index in values.indices {
                if index > 0 { text.write(byte: UInt8(ascii: ",")) }
                values[index].write(into: &text)
            }
            text.write(byte: UInt8(ascii: "]"))
        case .object(let object):
            text.write(byte: UInt8(ascii: "{"))
            let members = object.members
            for index in members.indices {
                if index > 0 { text.write(byte: UInt8(ascii: ",")) }
                text.write(string: members[index].0)
                text.write(byte: UInt8(ascii: ":"))
                members[index].1.write(into: &text)
            }
            text.write(byte: UInt8(ascii: "}"))
        }
    }
}

extension Response {
    /// A JSON response; `headers` are those besides its `Content-Type`.
    static func json(_ status: HTTPResponse.Status, _ value: JSON, headers: HTTPFields = [:]) -> Response {
        json(status, headers: headers) { $0.value(value) }
    }

    /// A JSON response whose body `write` streams (``JSONText/object(_:)``).
    static func json(_ status: HTTPResponse.Status, headers: HTTPFields = [:], _ write: (inout JSONText) -> Void) -> Response {
        var text = JSONText()
        write(&text)
        var fields = headers
        fields.append(jsonContentType)
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: text.buffer))
    }

    /// Made once: a field made from a string checks every byte of its value.
    private static let jsonContentType = HTTPField(name: .contentType, value: "application/json; charset=utf-8")
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
        // What comes before the parameters; an empty value or one that starts with `;` has none.
        let mediaType = Credentials.trimmed(contentType.prefix { $0 != ";" }.utf8)?.lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}

extension Date {
    /// Unix milliseconds, as the daemon counts them (the client's dates are whole milliseconds).
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
