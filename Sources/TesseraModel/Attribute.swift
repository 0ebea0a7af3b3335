/// The value of one of a user's attributes: the named, typed profile data an application keeps
/// beside Tessera's own fields (a title, a department, a birth date, a rank). Attributes are
/// the user's own profile: a web process may set them for its user, so they never decide what
/// anyone may do (roles do that).
public enum AttributeValue: Sendable, Hashable, CustomStringConvertible {
    /// At most ``AttributeLimits/maximumStringBytes`` bytes of UTF-8.
    case string(String)
    /// A finite IEEE 754 double (no NaN, no infinity).
    case number(Double)
    case bool(Bool)
    /// Unix milliseconds, from 0001-01-01 to 9999-12-31 (``AttributeLimits/dates``).
    case date(milliseconds: Int64)

    /// What the value is: `string`, `number`, `bool` or `date`.
    public var kind: AttributeKind {
        switch self {
        case .string: .string
        case .number: .number
        case .bool: .bool
        case .date: .date
        }
    }

    /// The bytes the value counts toward ``AttributeLimits/maximumTotalBytes``: a string's
    /// UTF-8, 8 for a number or a date, 1 for a boolean.
    public var countedBytes: Int {
        switch self {
        case .string(let text): text.utf8.count
        case .number, .date: 8
        case .bool: 1
        }
    }

    /// The value as text, without its kind (a date as Unix milliseconds).
    public var description: String {
        switch self {
        case .string(let text): text
        case .number(let number): AttributeValue.wholeNumber(number).map { String($0) } ?? String(number)
        case .bool(let flag): String(flag)
        case .date(let milliseconds): String(milliseconds)
        }
    }

    /// `number` as an integer when it is a whole one that every JSON reader keeps exact (below
    /// 10^15), so that `3` is written `3`, not `3.0`; `nil` otherwise.
    public static func wholeNumber(_ number: Double) -> Int64? {
        number == number.rounded() && abs(number) < 1e15 ? Int64(number) : nil
    }

    /// Why the value may not be stored, or `nil` when it may.
    public var problem: String? {
        switch self {
        case .string(let text):
            text.utf8.count <= AttributeLimits.maximumStringBytes
                ? nil : "a string attribute is at most \(AttributeLimits.maximumStringBytes) bytes, not \(text.utf8.count)"
        case .number(let number): number.isFinite ? nil : "a number attribute must be finite"
        case .bool: nil
        case .date(let milliseconds):
            AttributeLimits.dates.contains(milliseconds) ? nil : "a date attribute must lie between the years 1 and 9999"
        }
    }
}

/// The four kinds of attribute value, as the CLI and the import format name them.
public enum AttributeKind: String, Sendable, CaseIterable {
    case string, number, bool, date
}

/// The bounds of a user's attributes, enforced by the daemon on every write.
public enum AttributeLimits {
    /// Attributes a user may hold.
    public static let maximumCount = 32
    /// Bytes of a name: printable ASCII (0x21–0x7E).
    public static let maximumNameBytes = 64
    /// Bytes of a string value.
    public static let maximumStringBytes = 1024
    /// Bytes of names and values in all (``AttributeValue/countedBytes``).
    public static let maximumTotalBytes = 8192
    /// 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z in Unix milliseconds.
    public static let dates: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// Why `name` is not an attribute name, or `nil` when it is one.
    public static func problem(withName name: String) -> String? {
        let utf8 = name.utf8
        guard !utf8.isEmpty, utf8.count <= maximumNameBytes, utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            return "an attribute name is 1 to \(maximumNameBytes) printable ASCII characters without spaces"
        }
        return nil
    }

    /// Why `attributes` may not be a user's attributes all together, or `nil` when they may.
    public static func problem(with attributes: [String: AttributeValue]) -> String? {
        guard attributes.count <= maximumCount else { return "a user may have at most \(maximumCount) attributes, not \(attributes.count)" }
        let total = attributes.reduce(0) { $0 + $1.key.utf8.count + $1.value.countedBytes }
        guard total <= maximumTotalBytes else {
            return "attributes may hold at most \(maximumTotalBytes) bytes of names and values in all, not \(total)"
        }
        return nil
    }
}
