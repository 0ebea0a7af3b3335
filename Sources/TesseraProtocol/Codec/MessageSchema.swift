import NIOCore

/// A message carried in a frame body: a set of fields with its own tag numbers.
public protocol WireMessage: Sendable, Equatable {
    /// Decodes the body; unknown tags are skipped, malformed known ones throw ``ProtocolError``.
    init(decoding body: ByteBuffer) throws
    /// Appends the fields to `buffer`, in ascending tag order. Throws
    /// ``ProtocolError/fieldTooLong(tag:length:)`` for a value no field can hold.
    func encode(into buffer: inout ByteBuffer) throws
}

extension WireMessage {
    /// The encoded fields as a new buffer.
    public func encoded(allocator: ByteBufferAllocator = .init()) throws -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        try encode(into: &buffer)
        return buffer
    }
}

/// A message whose fields are declared once, in ``schema``: decoding, encoding, unknown-tag
/// skipping, duplicate detection and required-field checks are written once, in
/// ``MessageSchema``, for every message.
///
/// A new message is one declaration:
///
/// ```swift
/// public struct ValidateRequest: SchemaMessage {
///     public var code = ""
///     public init() {}
///     public static let schema = MessageSchema<Self>("VALIDATE request", [
///         .string(1, "code", \.code),
///     ])
/// }
/// ```
public protocol SchemaMessage: WireMessage {
    /// Every field at its default: what the decoder fills in.
    init()
    /// The message's fields, in ascending tag order.
    static var schema: MessageSchema<Self> { get }
    /// Rules that span several fields, checked after decoding (default: none).
    func validate() throws
}

extension SchemaMessage {
    public init(decoding body: ByteBuffer) throws {
        self = try Self.schema.decode(body)
    }

    public func encode(into buffer: inout ByteBuffer) throws {
        try withUnsafePointer(to: self) { try Self.encode(at: UnsafeRawPointer($0), into: &buffer) }
    }

    /// Appends the fields of the message at `message`, read in place (a nested message is
    /// encoded where it lies in its parent, not copied out first).
    static func encode(at message: UnsafeRawPointer, into buffer: inout ByteBuffer) throws {
        try schema.fields.withUnsafeBufferPointer { fields in
            for index in fields.indices { try fields[index].encode(message, &buffer) }
        }
    }

    public func validate() throws {}
}

/// The fields of one message type, with the lookup the decoder uses. A class: a message's
/// `schema` is read for every message encoded or decoded, and a struct of six arrays was copied
/// (six retains and releases) on each read.
public final class MessageSchema<Message>: Sendable {
    /// The message's name in `Protocol/PROTOCOL.md` (`USER`, `LOGIN request`, ...).
    public let wireName: String
    /// The fields in ascending tag order.
    public let fields: [Field<Message>]
    /// `slots[tag]` is the index of the field with that tag in ``fields``, or -1.
    @usableFromInline let slots: [Int8]
    /// Tags of required fields.
    @usableFromInline let required: [(tag: UInt8, name: String)]
    /// "One of" groups: exactly one member must be present.
    @usableFromInline let groups: [(tags: [UInt8], names: [String])]
    /// Each field's decoder and whether it repeats, in ``fields``' order: the decoder reads
    /// these instead of copying a whole ``Field`` (its names and both closures, retained and
    /// released) out of the array for every field of every message.
    @usableFromInline let decoders: [Decoder]

    @usableFromInline struct Decoder: Sendable {
        @usableFromInline let decode: @Sendable (inout Message, ByteBuffer) throws -> Void
        @usableFromInline let repeats: Bool
    }

    public init(_ wireName: String, _ fields: [Field<Message>]) {
        self.wireName = wireName
        self.fields = fields
        var slots = [Int8](repeating: -1, count: 256)
        var previous = 0
        for (index, field) in fields.enumerated() {
            precondition(field.tag != 0, "\(wireName): tag 0 is reserved")
            precondition(Int(field.tag) > previous, "\(wireName): tags must be unique and ascending (\(field.tag))")
            previous = Int(field.tag)
            slots[Int(field.tag)] = Int8(index)
        }
        self.slots = slots
        required = fields.filter { $0.presence == .required }.map { ($0.tag, $0.name) }
        var groups: [(String, [UInt8], [String])] = []
        for field in fields {
            guard let group = field.group else { continue }
            if let index = groups.firstIndex(where: { $0.0 == group }) {
                groups[index].1.append(field.tag)
                groups[index].2.append(field.name)
            } else {
                groups.append((group, [field.tag], [field.name]))
            }
        }
        self.groups = groups.map { ($0.1, $0.2) }
        decoders = fields.map { Decoder(decode: $0.decode, repeats: $0.presence == .repeated) }
    }

    /// The field with `tag`, if the message has one.
    public func field(tag: UInt8) -> Field<Message>? {
        let slot = slots[Int(tag)]
        return slot < 0 ? nil : fields[Int(slot)]
    }
}

extension MessageSchema where Message: SchemaMessage {
    /// Decodes a body: unknown tags skipped, a repeated singular field, a missing required field,
    /// a "one of" group with none or several members, or a malformed value throws.
    @usableFromInline
    func decode(_ body: ByteBuffer) throws -> Message {
        var message = Message()
        var reader = FieldReader(body)
        var seen = SeenTags()
        while let (tag, value) = try reader.next() {
            let slot = slots[Int(tag)]
            guard slot >= 0 else { continue }
            try decoders.withUnsafeBufferPointer { decoders in
                let decoder = decoders.baseAddress! + Int(slot)
                if !decoder.pointee.repeats { try seen.insert(tag) }
                try decoder.pointee.decode(&message, value)
            }
        }
        for (tag, name) in required where !seen.contains(tag) {
            throw ProtocolError.missingField(name: name)
        }
        for group in groups {
            switch group.tags.count(where: { seen.contains($0) }) {
            case 1: continue
            case 0: throw ProtocolError.missingField(name: group.names.joined(separator: " or "))
            default: throw ProtocolError.invalidValue("give exactly one of \(group.names.joined(separator: ", "))")
            }
        }
        try message.validate()
        return message
    }
}
