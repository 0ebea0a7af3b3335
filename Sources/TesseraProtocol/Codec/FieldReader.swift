import NIOCore

/// Iterates the fields of a frame body.
///
/// ```
///  0       1               3
///  +-------+-------+-------+------------------ ... --+
///  |  tag  | length (u16)  | value (length bytes)    |
///  +-------+-------+-------+------------------ ... --+
/// ```
///
/// Tag 0 is reserved: a receiver answers it with `invalid-argument`. Unknown tags are skipped
/// by every decoder, so a newer peer may add optional fields without breaking an older one.
public struct FieldReader {
    @usableFromInline var buffer: ByteBuffer

    public init(_ body: ByteBuffer) {
        buffer = body
    }

    /// The next field, or `nil` at the end of the body.
    @inlinable
    public mutating func next() throws -> (tag: UInt8, value: ByteBuffer)? {
        guard buffer.readableBytes > 0 else { return nil }
        guard let (tag, length) = buffer.readMultipleIntegers(as: (UInt8, UInt16).self) else {
            throw ProtocolError.truncatedField(tag: buffer.getInteger(at: buffer.readerIndex) ?? 0)
        }
        guard tag != 0 else { throw ProtocolError.reservedTag }
        guard let value = buffer.readSlice(length: Int(length)) else { throw ProtocolError.truncatedField(tag: tag) }
        return (tag, value)
    }
}

/// Tracks which singular fields a decoder has seen, to reject duplicates.
@usableFromInline
struct SeenTags {
    @usableFromInline var bits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    @inlinable init() {}

    @inlinable
    mutating func insert(_ tag: UInt8) throws {
        let bit = UInt64(1) << UInt64(tag & 63)
        let duplicate: Bool
        switch tag >> 6 {
        case 0:
            duplicate = bits.0 & bit != 0
            bits.0 |= bit
        case 1:
            duplicate = bits.1 & bit != 0
            bits.1 |= bit
        case 2:
            duplicate = bits.2 & bit != 0
            bits.2 |= bit
        default:
            duplicate = bits.3 & bit != 0
            bits.3 |= bit
        }
        if duplicate { throw ProtocolError.duplicateField(tag: tag) }
    }

    @inlinable
    func contains(_ tag: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(tag & 63)
        switch tag >> 6 {
        case 0: return bits.0 & bit != 0
        case 1: return bits.1 & bit != 0
        case 2: return bits.2 & bit != 0
        default: return bits.3 & bit != 0
        }
    }
}

extension ByteBuffer {
    // MARK: Field values

    /// Decodes a big-endian fixed-width integer field.
    @inlinable
    func fieldInteger<T: FixedWidthInteger>(_ tag: UInt8, as: T.Type = T.self) throws -> T {
        guard readableBytes == MemoryLayout<T>.size, let value = getInteger(at: readerIndex, as: T.self) else {
            throw ProtocolError.badFieldLength(tag: tag, expected: MemoryLayout<T>.size, actual: readableBytes)
        }
        return value
    }

    /// Decodes a UTF-8 string field.
    @inlinable
    func fieldString(_ tag: UInt8) throws -> String {
        // Decoded with repair (the standard library's fast path), then compared with the
        // bytes: a repaired string differs from its input, so equal means valid UTF-8.
        // `String(validating:as:)` over raw bytes went through generic metadata lookups and
        // cost a third of decoding a USER.
        let valid = withUnsafeReadableBytes { raw -> String? in
            let bytes = raw.assumingMemoryBound(to: UInt8.self)
            let string = String(decoding: bytes, as: UTF8.self)
            return string.utf8.elementsEqual(bytes) ? string : nil
        }
        guard let valid else { throw ProtocolError.invalidUTF8(tag: tag) }
        return valid
    }

    /// Decodes a bytes field.
    @inlinable
    func fieldBytes() -> [UInt8] {
        getBytes(at: readerIndex, length: readableBytes) ?? []
    }

    // MARK: Writing fields

    /// Writes a field whose value `writeValue` appends; the length is patched afterwards. A
    /// value longer than 65,535 bytes cannot be a field: nothing is written and
    /// ``ProtocolError/fieldTooLong(tag:length:)`` is thrown.
    @inlinable
    public mutating func writeField(_ tag: UInt8, _ writeValue: (inout ByteBuffer) throws -> Void) throws {
        let start = writerIndex
        writeInteger(tag)
        let lengthIndex = writerIndex
        writeInteger(UInt16(0))
        do {
            try writeValue(&self)
        } catch {
            moveWriterIndex(to: start)
            throw error
        }
        let length = writerIndex - lengthIndex - 2
        guard length <= Int(UInt16.max) else {
            moveWriterIndex(to: start)
            throw ProtocolError.fieldTooLong(tag: tag, length: length)
        }
        setInteger(UInt16(length), at: lengthIndex)
    }

    /// Writes a UTF-8 string field.
    @inlinable
    public mutating func writeField(_ tag: UInt8, string: String) throws {
        // The length is known before the value (a native string's UTF-8 count is stored):
        // two writes, where a patched length takes four.
        let length = string.utf8.count
        guard length <= Int(UInt16.max) else { throw ProtocolError.fieldTooLong(tag: tag, length: length) }
        writeMultipleIntegers(tag, UInt16(length))
        writeString(string)
    }

    /// Writes a bytes field.
    @inlinable
    public mutating func writeField<Bytes: Sequence>(_ tag: UInt8, bytes: Bytes) throws where Bytes.Element == UInt8 {
        try writeField(tag) { $0.writeBytes(bytes) }
    }

    /// Writes a bytes field from raw memory.
    @inlinable
    public mutating func writeField(_ tag: UInt8, rawBytes: UnsafeRawBufferPointer) throws {
        try writeField(tag) { $0.writeBytes(rawBytes) }
    }

    /// Writes a big-endian integer field.
    @inlinable
    public mutating func writeField<T: FixedWidthInteger>(_ tag: UInt8, integer: T) {
        writeMultipleIntegers(tag, UInt16(MemoryLayout<T>.size), integer)
    }
}
