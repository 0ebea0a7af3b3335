import NIOCore

/// JSON text being written: the bytes of a response body, appended to one array and handed to
/// NIO as one buffer. Written by hand, a byte or a run at a time: `JSONEncoder` took a fifth of
/// the gateway's time per request, and a `ByteBuffer` written a byte at a time checks its
/// uniqueness and capacity at every byte.
struct JSONText {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 1024) { bytes.reserveCapacity(capacity) }

    /// The text as a buffer for a response body.
    var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    mutating func write(byte: UInt8) { bytes.append(byte) }

    /// Text known to need no escape (a literal, a number's digits).
    mutating func write(ascii text: String) { bytes.append(contentsOf: text.utf8) }

    mutating func write(integer value: Int64) {
        guard value != 0 else { return write(byte: UInt8(ascii: "0")) }
        if value < 0 { write(byte: UInt8(ascii: "-")) }
        let start = bytes.endIndex
        var rest = value.magnitude
        while rest > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        bytes[start...].reverse()
    }

    /// A JSON string: quotes and backslashes escaped, control characters as `\n`, `\r`, `\t` or
    /// `\u00XX`, the rest as UTF-8; runs that need no escape are copied whole.
    mutating func write(string: String) {
        write(byte: UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            var run = 0
            for index in utf8.indices {
                let byte = utf8[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
                run = index + 1
                switch byte {
                case 0x0A: write(ascii: "\\n")
                case 0x0D: write(ascii: "\\r")
                case 0x09: write(ascii: "\\t")
                case 0..<0x20:
                    write(ascii: "\\u00")
                    write(byte: Self.hexDigits[Int(byte >> 4)])
                    write(byte: Self.hexDigits[Int(byte & 15)])
                default:
                    write(byte: UInt8(ascii: "\\"))
                    write(byte: byte)
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run...]))
        }
        write(byte: UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A date as a JSON string, `"YYYY-MM-DDTHH:MM:SS.mmmZ"` (RFC 3339, UTC, milliseconds),
    /// written as digits: a Foundation date formatter costs tens of microseconds to make, more
    /// than the rest of a request.
    mutating func write(timestamp milliseconds: Int64) {
        let (seconds, millis) = Self.floorDivision(milliseconds, by: 1000)
        let (days, secondOfDay) = Self.floorDivision(seconds, by: 86_400)
        let date = Self.civilDate(daysSince1970: Int(days))
        write(byte: UInt8(ascii: "\""))
        write(digits: date.year, width: 4, then: UInt8(ascii: "-"))
        write(digits: date.month, width: 2, then: UInt8(ascii: "-"))
        write(digits: date.day, width: 2, then: UInt8(ascii: "T"))
        write(digits: Int(secondOfDay / 3600), width: 2, then: UInt8(ascii: ":"))
        write(digits: Int(secondOfDay / 60 % 60), width: 2, then: UInt8(ascii: ":"))
        write(digits: Int(secondOfDay % 60), width: 2, then: UInt8(ascii: "."))
        write(digits: Int(millis), width: 3, then: UInt8(ascii: "Z"))
        write(byte: UInt8(ascii: "\""))
    }

    /// `value` zero-padded to `width` digits (more when it has more), then `separator`.
    private mutating func write(digits value: Int, width: Int, then separator: UInt8) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        if value >= divisor * 10 || value < 0 {
            write(integer: Int64(value))
        } else {
            var rest = value
            while divisor > 0 {
                write(byte: UInt8(ascii: "0") + UInt8(rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        write(byte: separator)
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
