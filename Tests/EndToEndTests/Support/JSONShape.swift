import Foundation
import XCTest

/// The type a field of an API's document has, as a test checks it in a decoded JSON object.
enum JSONKind: Sendable {
    case string, integer, number, bool, date, null, strings, array, object
    /// The kind, or `null`.
    indirect case orNull(JSONKind)

    func fits(_ value: Any?) -> Bool {
        // JSONSerialization gives every number and boolean as an NSNumber: its type code tells
        // them apart ("c" a boolean, "d" a fraction, the others whole numbers).
        let code = (value as? NSNumber).map { String(cString: $0.objCType) }
        switch self {
        case .string: return value is String
        case .integer: return code.map { $0 != "c" && $0 != "d" && $0 != "f" } ?? false
        case .number: return code.map { $0 != "c" } ?? false
        case .bool: return code == "c"
        case .date: return (value as? String).flatMap(ISO8601DateFormatter.withFractionalSeconds.date(from:)) != nil
        case .null: return value is NSNull
        case .strings: return value is [String]
        case .array: return value is [Any]
        case .object: return value is [String: Any]
        case .orNull(let kind): return value is NSNull || kind.fits(value)
        }
    }
}

/// Asserts that `object` has exactly the fields of `document`, each of its kind: none missing,
/// none added, none of another type.
func assertShape(
    _ object: [String: Any], _ document: [String: JSONKind], _ what: String, file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(Set(object.keys), Set(document.keys), "\(what): the fields", file: file, line: line)
    for (name, kind) in document.sorted(by: { $0.key < $1.key }) {
        XCTAssertTrue(kind.fits(object[name]), "\(what).\(name) should be \(kind), is \(String(describing: object[name]))", file: file, line: line)
    }
}
