/// Appends the fields of a stored record.
///
/// Records start with a version byte, then fixed-width fields, then length-prefixed ones.
/// New fields are only ever appended, so a reader of version N reads records written by N+1,
/// and a record written by N lacks the new trailing fields, which readers default.
struct RecordWriter {
    private(set) var bytes: [UInt8] = []

    init(version: UInt8, capacity: Int = 128) {
        bytes.reserveCapacity(capacity)
        bytes.append(version)
    }

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func write(raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }

    mutating func write(raw: [UInt8]) {
        bytes.append(contentsOf: raw)
    }

    /// A string of at most 65535 UTF-8 bytes, with a u16 length.
    mutating func write(string: String?) {
        let utf8 = string.map { Array($0.utf8) } ?? []
        precondition(utf8.count <= Int(UInt16.max))
        write(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// A list of at most 255 short strings: u8 count, then u8 length + bytes each.
    mutating func write(shortStrings: [String]) {
        precondition(shortStrings.count <= 255)
        bytes.append(UInt8(shortStrings.count))
        for string in shortStrings {
            let utf8 = Array(string.utf8)
            precondition(utf8.count <= 255)
            bytes.append(UInt8(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }
}

/// Reads a stored record in place, straight from the memory map. Throws on truncation.
struct RecordReader {
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset >= bytes.count }

    /// The bytes not read yet.
    @inline(__always)
    var remaining: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: bytes.baseAddress.map { $0 + offset }, count: max(0, bytes.count - offset))
    }

    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type = T.self) throws(RecordError) -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw RecordError.truncated }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(bigEndian: value)
    }

    @inline(__always)
    mutating func read(raw count: Int) throws(RecordError) -> UnsafeRawBufferPointer {
        guard offset + count <= bytes.count else { throw RecordError.truncated }
        defer { offset += count }
        return UnsafeRawBufferPointer(start: bytes.baseAddress! + offset, count: count)
    }

    mutating func readString() throws(RecordError) -> String? {
        let length = Int(try read(UInt16.self))
        guard length > 0 else { return nil }
        return String(decoding: try read(raw: length), as: UTF8.self)
    }

    /// Skips a short-string list and returns its raw bytes (count byte included).
    mutating func readShortStringsRaw() throws(RecordError) -> UnsafeRawBufferPointer {
        let start = offset
        let count = Int(try read(UInt8.self))
        for _ in 0..<count {
            let length = Int(try read(UInt8.self))
            _ = try read(raw: length)
        }
        return UnsafeRawBufferPointer(start: bytes.baseAddress! + start, count: offset - start)
    }

    mutating func readShortStrings() throws(RecordError) -> [String] {
        shortStrings(try readShortStringsRaw())
    }
}

/// A stored record that cannot be read: the database is damaged or from a newer major format.
enum RecordError: Error {
    case truncated
    case unknownVersion(UInt8)
}

/// Calls `body` with each string of a raw short-string list (as produced by `write(shortStrings:)`).
@inline(__always)
func forEachShortString(_ raw: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
    guard raw.count > 0 else { return }
    var offset = 1
    for _ in 0..<Int(raw[0]) {
        let length = Int(raw[offset])
        body(UnsafeRawBufferPointer(start: raw.baseAddress! + offset + 1, count: length))
        offset += 1 + length
    }
}

/// The strings of a raw short-string list (as `readShortStringsRaw` returns it).
func shortStrings(_ raw: UnsafeRawBufferPointer) -> [String] {
    var out: [String] = []
    out.reserveCapacity(raw.isEmpty ? 0 : Int(raw[0]))
    forEachShortString(raw) { out.append(String(decoding: $0, as: UTF8.self)) }
    return out
}
