/// A violation of the wire format, found while decoding.
public enum ProtocolError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The length field exceeds the maximum frame length. Checked before any body byte is buffered.
    case frameTooLarge(length: UInt32, maximum: UInt32)
    /// The length field is below the header size.
    case frameTooShort(length: UInt32)
    /// A field's length runs past the end of the body.
    case truncatedField(tag: UInt8)
    /// Tag zero is reserved.
    case reservedTag
    /// A fixed-width field has the wrong length.
    case badFieldLength(tag: UInt8, expected: Int, actual: Int)
    /// A singular field appears twice.
    case duplicateField(tag: UInt8)
    /// A required field is absent.
    case missingField(name: String)
    /// A string field is not valid UTF-8.
    case invalidUTF8(tag: UInt8)
    /// A field's value is out of its allowed range.
    case invalidValue(String)
    /// A value too long to be written as a field (more than 65,535 bytes).
    case fieldTooLong(tag: UInt8, length: Int)

    /// The status to report for this error.
    public var status: Status {
        switch self {
        case .frameTooLarge: .frameTooLarge
        case .frameTooShort: .malformedFrame
        default: .invalidArgument
        }
    }

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let maximum): "frame length \(length) exceeds the maximum of \(maximum) bytes"
        case .frameTooShort(let length): "frame length \(length) is shorter than the 8-byte header"
        case .truncatedField(let tag): "field \(tag) runs past the end of the frame"
        case .reservedTag: "field tag 0 is reserved"
        case .badFieldLength(let tag, let expected, let actual): "field \(tag) must be \(expected) bytes, not \(actual)"
        case .duplicateField(let tag): "field \(tag) appears more than once"
        case .missingField(let name): "required field \(name) is missing"
        case .invalidUTF8(let tag): "field \(tag) is not valid UTF-8"
        case .invalidValue(let why): why
        case .fieldTooLong(let tag, let length): "field \(tag) would be \(length) bytes; a field holds at most 65535"
        }
    }
}
