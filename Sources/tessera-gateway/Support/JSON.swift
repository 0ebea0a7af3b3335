import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// A JSON value with explicit nulls (Codable's optionals would drop the key): the APIs' shapes
/// say `null` where a value is absent.
enum JSON: Encodable, Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral
{
    case string(String)
    case int(Int64)
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

    static func iso8601(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let values): try container.encode(values)
        case .object(let fields): try container.encode(fields)
        }
    }
}

extension Response {
    /// A JSON response (keys sorted, so the same value always makes the same bytes).
    static func json(_ status: HTTPResponse.Status, _ value: JSON, headers: HTTPFields = [:]) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Reading a request's JSON body into a `Decodable` shape.
enum RequestBody {
    /// The largest body the login APIs read.
    static let maximumBytes = 64 * 1024

    /// The body as `T`; `nil` when it is missing, too large, not JSON, or not of `T`'s shape.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async -> T? {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: maximumBytes), buffer.readableBytes > 0 else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    }
}
