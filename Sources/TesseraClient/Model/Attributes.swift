import Foundation

extension AttributeValue {
    /// A date attribute at `date` (to the millisecond, rounded down).
    public static func date(_ date: Date) -> AttributeValue { .date(milliseconds: date.milliseconds) }

    /// The date of a date attribute; `nil` for the other kinds.
    public var dateValue: Date? {
        if case .date(let milliseconds) = self { return Date(milliseconds: milliseconds) }
        return nil
    }

    /// The value as text, as ``init(parsing:as:)`` reads it back: a date as RFC 3339 in UTC
    /// with milliseconds (`1990-05-01T00:00:00.000Z`).
    public var text: String {
        guard case .date(let milliseconds) = self else { return description }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(milliseconds: milliseconds))
    }

    /// Reads `text` as a value of `kind`: a number in decimal (`3`, `-2.5`, `1e3`), a bool as
    /// `true` or `false`, a date as RFC 3339 (`1990-05-01T12:00:00Z`, fractional seconds
    /// allowed) or a day (`1990-05-01`, midnight UTC). Throws a message naming what is wrong.
    public init(parsing text: String, as kind: AttributeKind) throws(AttributeTextError) {
        switch kind {
        case .string:
            self = .string(text)
        case .number:
            guard let number = Double(text), number.isFinite else { throw AttributeTextError("\"\(text)\" is not a finite number") }
            self = .number(number)
        case .bool:
            switch text {
            case "true": self = .bool(true)
            case "false": self = .bool(false)
            default: throw AttributeTextError("\"\(text)\" is not true or false")
            }
        case .date:
            let formatter = ISO8601DateFormatter()
            for options: ISO8601DateFormatter.Options in [
                [.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds], [.withFullDate],
            ] {
                formatter.formatOptions = options
                if let date = formatter.date(from: text) {
                    self = .date(date)
                    return
                }
            }
            throw AttributeTextError("\"\(text)\" is not a date (1990-05-01 or 1990-05-01T12:00:00Z)")
        }
    }
}

/// Why text is not an attribute value of the kind asked for.
public struct AttributeTextError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
