import NIOCore
public import TesseraModel

/// One of a user's attributes: the ATTRIBUTE message, nested in USER's and PROFILE's
/// `attribute` field. Its name, then exactly one value of one of four kinds.
public struct Attribute: SchemaMessage {
    public var name: String
    public var value: AttributeValue

    public init() { self.init(name: "", value: .bool(false)) }

    public init(name: String, value: AttributeValue) {
        self.name = name
        self.value = value
    }

    public static let schema = MessageSchema<Self>(
        "ATTRIBUTE",
        [.string(1, "name", \.name)] + Field<Self>.attributeValue(\.value))
}

extension Field {
    /// The four fields of an ``AttributeValue`` stored at `path`, one of which must be present:
    /// `string` (2), `number` (3, an IEEE 754 double), `bool` (4, 0 or 1) and `date` (5, Unix
    /// milliseconds).
    static func attributeValue(_ path: any FieldPath<Message, AttributeValue>) -> [Field] {
        let stored = StoredProperty(path)
        return [
            Field(
                tag: 2, name: "string", kind: "string", presence: .oneOf("value"),
                decode: { $0[keyPath: path] = .string(try $1.fieldString(2)) },
                encode: { message, buffer in if case .string(let text) = stored[message] { try buffer.writeField(2, string: text) } }),
            Field(
                tag: 3, name: "number", kind: "f64", presence: .oneOf("value"),
                decode: { $0[keyPath: path] = .number(Double(bitPattern: try $1.fieldInteger(3, as: UInt64.self))) },
                encode: { message, buffer in
                    if case .number(let number) = stored[message] { buffer.writeField(3, integer: number.bitPattern) }
                }),
            Field(
                tag: 4, name: "bool", kind: "u8", presence: .oneOf("value"),
                decode: { $0[keyPath: path] = .bool(try $1.fieldInteger(4, name: "bool", allowed: 0...1 as ClosedRange<UInt8>) == 1) },
                encode: { message, buffer in if case .bool(let flag) = stored[message] { buffer.writeField(4, integer: UInt8(flag ? 1 : 0)) } }),
            Field(
                tag: 5, name: "date", kind: "i64", presence: .oneOf("value"),
                decode: { $0[keyPath: path] = .date(milliseconds: try $1.fieldInteger(5, as: Int64.self)) },
                encode: { message, buffer in
                    if case .date(let milliseconds) = stored[message] { buffer.writeField(5, integer: milliseconds) }
                }),
        ]
    }

    /// A name-to-value map as a repeated nested ``Attribute`` (written in name order); a name
    /// given twice is an `invalid-argument`.
    public static func attributes(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [String: AttributeValue]>) -> Field {
        keyedMap(tag, name, path, entry: { Attribute(name: $0, value: $1) }, split: { ($0.name, $0.value) })
    }
}
