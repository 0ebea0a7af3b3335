import NIOCore

/// JSON text being written: the bytes of a response body, in one allocation of its own that
/// doubles when full, handed to NIO as one buffer. Written by hand, through a pointer:
/// `JSONEncoder` took a fifth of the gateway's time per request, and an array or a `ByteBuffer`
/// appended to checks its uniqueness and its capacity at every byte. Noncopyable: it owns its
/// memory and frees it once.
///
/// A response on every request's path streams its object with ``object(_:)``, ``key(_:)`` and
/// ``value(_:)``, which put the commas; a small one is a ``JSON`` value written whole.
struct JSONText: ~Copyable {
    private var start: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    /// Whether a value was the last thing written, so that the next member or element is
    /// preceded by a comma.
    private var afterValue = false

    /// 480 bytes, and the allocator's bookkeeping, stay under glibc's per-thread cache limit
    /// (1,032 bytes): a larger first request goes to the shared heap, and on to
    /// `malloc_consolidate`, at every response. Most bodies fit; the rest grow.
    init(capacity: Int = 480) {
        self.capacity = max(capacity, 32)
        start = .allocate(capacity: self.capacity)
    }

    deinit { start.deallocate() }

    /// The text's bytes.
    var bytes: [UInt8] { Array(UnsafeBufferPointer(start: start, count: count)) }

    /// The text as a buffer for a response body.
    var buffer: ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        buffer.writeBytes(UnsafeRawBufferPointer(start: start, count: count))
        return buffer
    }

    /// Room for `more` bytes after the text.
    @inline(__always)
    private mutating func reserve(_ more: Int) {
        if count + more > capacity { grow(toFit: more) }
    }

    @inline(never)
    private mutating func grow(toFit more: Int) {
        var larger = capacity * 2
        while larger < count + more { larger *= 2 }
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
        moved.initialize(from: start, count: count)
        start.deallocate()
        (start, capacity) = (moved, larger)
    }

    mutating func write(byte: UInt8) {
        reserve(1)
        start[count] = byte
        count += 1
    }

    /// Bytes known to need no escape.
    private mutating func write(run: UnsafeBufferPointer<UInt8>) {
        reserve(run.count)
        put(run: run)
    }

    /// Bytes known to need no escape, into room already reserved.
    @inline(__always)
    private mutating func put(run: UnsafeBufferPointer<UInt8>) {
        guard let from = run.baseAddress, !run.isEmpty else { return }
        (start + count).update(from: from, count: run.count)
        count += run.count
    }

    /// Text known to need no escape (a literal).
    mutating func write(ascii text: StaticString) {
        text.withUTF8Buffer { write(run: $0) }
    }

    /// Text known to need no escape (a number's digits).
    mutating func write(ascii text: String) {
        var text = text
        text.withUTF8 { write(run: $0) }
    }

    mutating func write(integer value: Int64) {
        reserve(20)
        if value < 0 {
            start[count] = UInt8(ascii: "-")
            count += 1
        }
        let first = count
        var rest = value.magnitude
        repeat {
            start[count] = UInt8(ascii: "0") + UInt8(rest % 10)
            count += 1
            rest /= 10
        } while rest > 0
        var digits = UnsafeMutableBufferPointer(start: start + first, count: count - first)
        digits.reverse()
    }

    /// A JSON string: quotes and backslashes escaped, control characters as `\n`, `\r`, `\t` or
    /// `\u00XX`, the rest as UTF-8. Bytes are copied as they are checked, into room reserved
    /// once; the first that needs an escape sends the rest down the escaping path.
    mutating func write(string: String) {
        var string = string
        string.withUTF8 { utf8 in
            reserve(utf8.count + 2)
            put(byte: UInt8(ascii: "\""))
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                if Self.needsEscape(byte) { break }
                start[count + index] = byte
                index += 1
            }
            count += index
            if index < utf8.count { write(escaping: UnsafeBufferPointer(rebasing: utf8[index...])) }
            write(byte: UInt8(ascii: "\""))
        }
    }

    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// The rest of a string from its first byte that needs an escape: runs that need none are
    /// copied whole.
    private mutating func write(escaping utf8: UnsafeBufferPointer<UInt8>) {
        var run = 0
        for index in utf8.indices {
            let byte = utf8[index]
            guard Self.needsEscape(byte) else { continue }
            write(run: UnsafeBufferPointer(rebasing: utf8[run..<index]))
            run = index + 1
            switch byte {
            case 0x0A: write(ascii: "\\n")
            case 0x0D: write(ascii: "\\r")
            case 0x09: write(ascii: "\\t")
            case 0..<0x20:
                write(ascii: "\\u00")
                write(byte: Self.hexDigit(byte >> 4))
                write(byte: Self.hexDigit(byte & 15))
            default:
                write(byte: UInt8(ascii: "\\"))
                write(byte: byte)
            }
        }
        write(run: UnsafeBufferPointer(rebasing: utf8[run...]))
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// A date as a JSON string, `"YYYY-MM-DDTHH:MM:SS.mmmZ"` (RFC 3339, UTC, milliseconds),
    /// written as digits: a Foundation date formatter costs tens of microseconds to make, more
    /// than the rest of a request.
    mutating func write(timestamp milliseconds: Int64) {
        let (seconds, millis) = Self.floorDivision(milliseconds, by: 1000)
        let (days, secondOfDay) = Self.floorDivision(seconds, by: 86_400)
        let date = Self.civilDate(daysSince1970: Int(days))
        write(byte: UInt8(ascii: "\""))
        if (0...9999).contains(date.year) {
            reserve(4)
            put(digits: date.year / 100)
            put(digits: date.year % 100)
        } else {
            write(integer: Int64(date.year))
        }
        reserve(20)
        put(byte: UInt8(ascii: "-"))
        put(digits: date.month)
        put(byte: UInt8(ascii: "-"))
        put(digits: date.day)
        put(byte: UInt8(ascii: "T"))
        put(digits: Int(secondOfDay / 3600))
        put(byte: UInt8(ascii: ":"))
        put(digits: Int(secondOfDay / 60 % 60))
        put(byte: UInt8(ascii: ":"))
        put(digits: Int(secondOfDay % 60))
        put(byte: UInt8(ascii: "."))
        put(byte: UInt8(ascii: "0") + UInt8(millis / 100))
        put(digits: Int(millis % 100))
        put(byte: UInt8(ascii: "Z"))
        put(byte: UInt8(ascii: "\""))
    }

    /// The two digits of a number in `0...99`, into room already reserved.
    @inline(__always)
    private mutating func put(digits: Int) {
        start[count] = UInt8(ascii: "0") + UInt8(digits / 10)
        start[count + 1] = UInt8(ascii: "0") + UInt8(digits % 10)
        count += 2
    }

    /// One byte, into room already reserved.
    @inline(__always)
    private mutating func put(byte: UInt8) {
        start[count] = byte
        count += 1
    }

    // MARK: Structure, streamed

    /// An object: `{`, the members `members` writes (each a ``key(_:)`` and a value), `}`.
    mutating func object(_ members: (inout JSONText) -> Void) {
        enclose(UInt8(ascii: "{"), members, UInt8(ascii: "}"))
    }

    /// An array: `[`, the values `elements` writes, `]`.
    mutating func array(_ elements: (inout JSONText) -> Void) {
        enclose(UInt8(ascii: "["), elements, UInt8(ascii: "]"))
    }

    private mutating func enclose(_ open: UInt8, _ contents: (inout JSONText) -> Void, _ close: UInt8) {
        separate()
        write(byte: open)
        afterValue = false
        contents(&self)
        write(byte: close)
        afterValue = true
    }

    /// A member's key, then `:`; its value comes next. A key is a literal of the API's shape,
    /// written as it is: it needs no escape.
    mutating func key(_ key: StaticString) {
        key.withUTF8Buffer { key in
            reserve(key.count + 4)
            if afterValue { put(byte: UInt8(ascii: ",")) }
            put(byte: UInt8(ascii: "\""))
            put(run: key)
            put(byte: UInt8(ascii: "\""))
            put(byte: UInt8(ascii: ":"))
        }
        afterValue = false
    }

    /// A value: an array's element, or the value of the key just written.
    mutating func value(_ value: JSON) {
        separate()
        value.write(into: &self)
        afterValue = true
    }

    /// A member whose value is `value`.
    mutating func member(_ key: StaticString, _ value: JSON) {
        self.key(key)
        self.value(value)
    }

    /// A member whose value is an array of strings.
    mutating func member(_ key: StaticString, strings: [String]) {
        self.key(key)
        array { for string in strings { $0.value(.string(string)) } }
    }

    private mutating func separate() {
        if afterValue { write(byte: UInt8(ascii: ",")) }
    }

    /// Quotient and remainder rounded toward negative infinity: a date before 1970 keeps a
    /// remainder in `0..<divisor`.
    static func floorDivision(_ value: Int64, by divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = value / divisor - (value % divisor < 0 ? 1 : 0)
        return (quotient, value - quotient * divisor)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (Howard Hinnant's
    /// `civil_from_days`), by arithmetic: `gmtime_r` takes glibc's time zone lock.
    static func civilDate(daysSince1970 days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}
