import NIOCore

/// One field of a message: its tag, its name in the spec, its wire type, whether it must,
/// may or may repeat, and how it moves between the wire and a stored property.
///
/// Declared with the factories below (`.string(1, "token", \.token)`); the overload is chosen by
/// the property's type: `String` is required, `String?` optional, `[String]` repeated.
public struct Field<Message>: Sendable {
    public let tag: UInt8
    /// The field's name in `Protocol/PROTOCOL.md`.
    public let name: String
    /// The wire type as the spec writes it: `u8`, `u16`, `u32`, `u64`, `i64`, `string`, `bytes`,
    /// or a nested message's name (`USER`).
    public let kind: String
    public let presence: FieldPresence
    @usableFromInline let decode: @Sendable (inout Message, ByteBuffer) throws -> Void
    /// Appends the field, reading it from the message at the given address.
    @usableFromInline let encode: @Sendable (UnsafeRawPointer, inout ByteBuffer) throws -> Void

    public init(
        tag: UInt8, name: String, kind: String, presence: FieldPresence,
        decode: @escaping @Sendable (inout Message, ByteBuffer) throws -> Void,
        encode: @escaping @Sendable (UnsafeRawPointer, inout ByteBuffer) throws -> Void
    ) {
        self.tag = tag
        self.name = name
        self.kind = kind
        self.presence = presence
        self.decode = decode
        self.encode = encode
    }

    /// The "one of" group the field belongs to.
    var group: String? {
        if case .oneOf(let group) = presence { return group }
        return nil
    }
}

/// Whether a field must be present.
public enum FieldPresence: Sendable, Equatable {
    /// Must appear exactly once.
    case required
    /// May appear at most once.
    case optional
    /// May appear any number of times; the values form a list in order of appearance.
    case repeated
    /// Exactly one field of the named group must appear.
    case oneOf(String)
}

/// A key path that may be stored in a schema shared across threads.
public typealias FieldPath<Message, Value> = WritableKeyPath<Message, Value> & Sendable

/// Where a field's stored property lies in its message, found once from the key path when the
/// schema is built. The encoder reads each field in place through it: a key path read per
/// field per message went through the runtime's generic metadata cache, and cost most of a
/// LOGIN reply's encoding.
@usableFromInline
struct StoredProperty<Message, Value>: Sendable {
    @usableFromInline let offset: Int

    init(_ path: any FieldPath<Message, Value>) {
        guard let offset = MemoryLayout<Message>.offset(of: path as WritableKeyPath<Message, Value>) else {
            preconditionFailure("a schema field must name a stored property of \(Message.self)")
        }
        self.offset = offset
    }

    /// The property of the message at `message`, read in place.
    @inlinable
    subscript(_ message: UnsafeRawPointer) -> Value {
        unsafeAddress { (message + offset).assumingMemoryBound(to: Value.self) }
    }

    /// Changes the property of `message` in place. The decoder writes each field through
    /// it: a key path write went through the runtime's generic metadata as the read did.
    @inlinable
    func modify<Result>(_ message: inout Message, _ body: (inout Value) throws -> Result) rethrows -> Result {
        try withUnsafeMutablePointer(to: &message) { pointer in
            try body(&UnsafeMutableRawPointer(pointer).advanced(by: offset).assumingMemoryBound(to: Value.self).pointee)
        }
    }

    /// Sets the property of `message`.
    @inlinable
    func set(_ message: inout Message, _ value: Value) {
        modify(&message) { $0 = value }
    }
}

// MARK: Strings

extension Field {
    public static func string(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, String>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: "string", presence: .required,
            decode: { message, value in try stored.set(&message, value.fieldString(tag)) },
            encode: { try $1.writeField(tag, string: stored[$0]) })
    }

    public static func string(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, String?>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: "string", presence: .optional,
            decode: { message, value in try stored.set(&message, value.fieldString(tag)) },
            encode: { message, buffer in if let value = stored[message] { try buffer.writeField(tag, string: value) } })
    }

    public static func string(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [String]>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: "string", presence: .repeated,
            decode: { message, value in try stored.modify(&message) { $0.append(try value.fieldString(tag)) } },
            encode: { message, buffer in for value in stored[message] { try buffer.writeField(tag, string: value) } })
    }
}

// MARK: Bytes

extension Field {
    /// A byte string; with `length`, exactly that many bytes.
    public static func bytes(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [UInt8]>, length: Int? = nil) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: "bytes", presence: .required,
            decode: { message, value in try stored.set(&message, value.fieldBytes(tag, length: length)) },
            encode: { try $1.writeField(tag, bytes: stored[$0]) })
    }

    public static func bytes(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [UInt8]?>, length: Int? = nil) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: "bytes", presence: .optional,
            decode: { message, value in try stored.set(&message, value.fieldBytes(tag, length: length)) },
            encode: { message, buffer in if let value = stored[message] { try buffer.writeField(tag, bytes: value) } })
    }

    /// An optional byte string held as a plain `[UInt8]`: absent reads as empty, and empty is
    /// not written.
    public static func optionalBytes(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [UInt8]>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: "bytes", presence: .optional,
            decode: { message, value in try stored.set(&message, value.fieldBytes(tag, length: nil)) },
            encode: { message, buffer in if !stored[message].isEmpty { try buffer.writeField(tag, bytes: stored[message]) } })
    }
}

// MARK: Integers

extension Field {
    public static func integer<T: FixedWidthInteger & Sendable>(
        _ tag: UInt8, _ name: String, _ path: any FieldPath<Message, T>,
        allowed: ClosedRange<T>? = nil
    ) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: integerKind(T.self), presence: .required,
            decode: { message, value in try stored.set(&message, value.fieldInteger(tag, name: name, allowed: allowed)) },
            encode: { $1.writeField(tag, integer: stored[$0]) })
    }

    public static func integer<T: FixedWidthInteger & Sendable>(
        _ tag: UInt8, _ name: String, _ path: any FieldPath<Message, T?>,
        allowed: ClosedRange<T>? = nil
    ) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: integerKind(T.self), presence: .optional,
            decode: { message, value in try stored.set(&message, value.fieldInteger(tag, name: name, allowed: allowed)) },
            encode: { message, buffer in if let value = stored[message] { buffer.writeField(tag, integer: value) } })
    }

    /// An optional integer read as `defaultValue` when absent and written only when it differs.
    public static func integer<T: FixedWidthInteger & Sendable>(
        _ tag: UInt8, _ name: String, _ path: any FieldPath<Message, T>,
        default defaultValue: T, allowed: ClosedRange<T>? = nil
    ) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: integerKind(T.self), presence: .optional,
            decode: { message, value in try stored.set(&message, value.fieldInteger(tag, name: name, allowed: allowed)) },
            encode: { message, buffer in
                let value = stored[message]
                if value != defaultValue { buffer.writeField(tag, integer: value) }
            })
    }

    /// A `u8` that is 1 (yes) or 0 (no); absent means no, and only yes is written.
    public static func flag(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, Bool>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: "u8", presence: .optional,
            decode: { message, value in try stored.set(&message, value.fieldInteger(tag, name: name, allowed: 0...1 as ClosedRange<UInt8>) == 1) },
            encode: { message, buffer in if stored[message] { buffer.writeField(tag, integer: UInt8(1)) } })
    }

    static func integerKind<T: FixedWidthInteger>(_ type: T.Type) -> String {
        (T.isSigned ? "i" : "u") + String(T.bitWidth)
    }
}

// MARK: Nested messages

extension Field {
    public static func message<Nested: SchemaMessage>(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, Nested>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: Nested.schema.wireName, presence: .required,
            decode: { message, value in try stored.set(&message, Nested(decoding: value)) },
            encode: { message, buffer in try buffer.writeField(tag) { try Nested.encode(at: message + stored.offset, into: &$0) } })
    }

    public static func message<Nested: SchemaMessage>(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, Nested?>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: Nested.schema.wireName, presence: .optional,
            decode: { message, value in try stored.set(&message, Nested(decoding: value)) },
            encode: { message, buffer in
                if let nested = stored[message] { try buffer.writeField(tag) { try nested.encode(into: &$0) } }
            })
    }

    public static func message<Nested: SchemaMessage>(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [Nested]>) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: Nested.schema.wireName, presence: .repeated,
            decode: { message, value in try stored.modify(&message) { $0.append(try Nested(decoding: value)) } },
            encode: { message, buffer in
                try stored[message].withUnsafeBufferPointer { list in
                    for index in list.indices { try buffer.writeField(tag) { try Nested.encode(at: list.baseAddress! + index, into: &$0) } }
                }
            })
    }

    /// A key/value map as a repeated nested ``Setting`` (written in key order); a key given
    /// twice is an `invalid-argument`.
    public static func settings(_ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [String: String]>) -> Field {
        keyedMap(tag, name, path, entry: { Setting(key: $0, value: $1) }, split: { ($0.key, $0.value) })
    }

    /// A map as a repeated nested message, one entry a key: written in key order, a key read
    /// twice an `invalid-argument` naming it (`setting theme is given twice`).
    static func keyedMap<Entry: SchemaMessage, Value>(
        _ tag: UInt8, _ name: String, _ path: any FieldPath<Message, [String: Value]>, entry: @escaping @Sendable (String, Value) -> Entry,
        split: @escaping @Sendable (Entry) -> (String, Value)
    ) -> Field {
        let stored = StoredProperty(path)
        return Field(
            tag: tag, name: name, kind: Entry.schema.wireName, presence: .repeated,
            decode: { message, value in
                let (key, value) = split(try Entry(decoding: value))
                guard stored.modify(&message, { $0.updateValue(value, forKey: key) }) == nil else {
                    throw ProtocolError.invalidValue("\(name) \(key) is given twice")
                }
            },
            encode: { message, buffer in
                for (key, value) in stored[message].sorted(by: { $0.key < $1.key }) {
                    try buffer.writeField(tag) { try entry(key, value).encode(into: &$0) }
                }
            })
    }
}

// MARK: Embedding

extension Field {
    /// `field` of the message stored at `path`, written at this message's level (the fields
    /// of a nested struct flattened into its parent's tag space).
    public static func embedding<Inner>(_ field: Field<Inner>, at path: any FieldPath<Message, Inner>) -> Field<Message> {
        let stored = StoredProperty(path)
        return Field<Message>(
            tag: field.tag, name: field.name, kind: field.kind, presence: field.presence,
            decode: { message, value in try stored.modify(&message) { try field.decode(&$0, value) } },
            encode: { message, buffer in try field.encode(message + stored.offset, &buffer) })
    }
}

// MARK: Values

extension ByteBuffer {
    /// Decodes a big-endian fixed-width integer field, optionally within `allowed`.
    @inlinable
    func fieldInteger<T: FixedWidthInteger>(_ tag: UInt8, name: String, allowed: ClosedRange<T>?) throws -> T {
        let value: T = try fieldInteger(tag)
        if let allowed, !allowed.contains(value) {
            throw ProtocolError.invalidValue("\(name) must be between \(allowed.lowerBound) and \(allowed.upperBound), not \(value)")
        }
        return value
    }

    /// Decodes a bytes field, of exactly `length` bytes when given.
    @inlinable
    func fieldBytes(_ tag: UInt8, length: Int?) throws -> [UInt8] {
        if let length, readableBytes != length {
            throw ProtocolError.badFieldLength(tag: tag, expected: length, actual: readableBytes)
        }
        return fieldBytes()
    }
}
