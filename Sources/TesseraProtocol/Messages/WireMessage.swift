import NIOCore

/// A message carried in a frame body: a set of fields with its own tag numbers.
public protocol WireMessage: Sendable, Equatable {
    /// Decodes the body; unknown tags are skipped, malformed known ones throw ``ProtocolError``.
    init(decoding body: ByteBuffer) throws
    /// Appends the fields to `buffer`, in ascending tag order.
    func encode(into buffer: inout ByteBuffer)
}

extension WireMessage {
    /// The encoded fields as a new buffer.
    public func encoded(allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 64)
        encode(into: &buffer)
        return buffer
    }
}

/// Walks `body`, rejecting duplicate singular fields and calling `handle` for each field.
/// Tags listed in `repeated` may appear more than once.
@inlinable
func decodeFields(_ body: ByteBuffer, repeated: Set<UInt8> = [], _ handle: (UInt8, ByteBuffer) throws -> Void) throws {
    var reader = FieldReader(body)
    var seen = SeenTags()
    while let (tag, value) = try reader.next() {
        if !repeated.contains(tag) { try seen.insert(tag) }
        try handle(tag, value)
    }
}

/// Throws ``ProtocolError/missingField(name:)`` when `value` is `nil`.
@inlinable
func required<T>(_ value: T?, _ name: String) throws -> T {
    guard let value else { throw ProtocolError.missingField(name: name) }
    return value
}
