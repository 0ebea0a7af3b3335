import Foundation
import TesseraModel
import XCTest

final class JSONValueTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    private func assertRefused(_ text: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parse(text), "\(text) was read", file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(reason), "\(text): \(error)", file: file, line: line)
        }
    }

    func testReadsEveryKindOfValue() throws {
        let value = try parse(
            #" { "s": "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00", "i": -42, "d": 1.5e3, "t": true, "f": false, "n": null, "a": [1, [], {}], "o": {"k": "v"} } "#
        )
        XCTAssertEqual(
            value,
            .object([
                "s": .string("a\"b\\c/d\u{08}\u{0c}\n\r\té😀"), "i": .integer(-42), "d": .double(1500), "t": .bool(true), "f": .bool(false),
                "n": .null, "a": .array([.integer(1), .array([]), .object([:])]), "o": .object(["k": .string("v")]),
            ]))
        XCTAssertEqual(try parse("\"héllo\""), .string("héllo"))
    }

    func testNumbersKeepWholeNumbersExact() throws {
        XCTAssertEqual(try parse("9223372036854775807"), .integer(.max))
        XCTAssertEqual(try parse("-9223372036854775808"), .integer(.min))
        XCTAssertEqual(try parse("9223372036854775808"), .double(9_223_372_036_854_775_808))
        XCTAssertEqual(try parse("1672628645000"), .integer(1_672_628_645_000))
        XCTAssertEqual(try parse("0"), .integer(0))
        XCTAssertEqual(try parse("-0.25"), .double(-0.25))
        XCTAssertEqual(try parse("1E2"), .double(100))
        XCTAssertEqual(try parse("6").integer, 6)
        XCTAssertNil(try parse("6.0").integer)
    }

    func testRefusesWhatRFC8259DoesNotAllow() {
        assertRefused("", "truncated")
        assertRefused("{\"a\":1", "',' or '}'")
        assertRefused("{\"a\":1,}", "member name")
        assertRefused("[1,]", "a value was expected")
        assertRefused("{'a':1}", "member name")
        assertRefused("// c\n{}", "a value was expected")
        assertRefused("01", "leading zero")
        assertRefused("1.", "after '.'")
        assertRefused("1e", "exponent")
        assertRefused("-", "a digit")
        assertRefused("+1", "a value was expected")
        assertRefused("1e400", "out of range")
        assertRefused("tru", "a value was expected")
        assertRefused("nul", "a value was expected")
        assertRefused("{} {}", "text after the value")
        assertRefused("\"a\tb\"", "control character")
        assertRefused("\"abc", "unterminated")
        assertRefused("\"a\\", "unterminated")
        assertRefused("\"\\x\"", "unknown escape")
        assertRefused("\"\\u12\"", "hexadecimal")
        assertRefused("\"\\ud800\"", "unpaired surrogate")
        assertRefused("\"\\ud800\\u0041\"", "unpaired surrogate")
        assertRefused("\"\\udc00\"", "unpaired surrogate")
        assertRefused("{\"a\":1,\"a\":2}", "appears twice")
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0xff, 0x22])) { XCTAssertTrue("\($0)".contains("not UTF-8")) }
        XCTAssertThrowsError(try JSONValue.parse([0x22, 0x5c, 0x6e, 0xc3, 0x22])) { XCTAssertTrue("\($0)".contains("not UTF-8")) }
    }

    func testBoundsTheNesting() throws {
        let deepest = String(repeating: "[", count: JSONValue.maximumDepth) + String(repeating: "]", count: JSONValue.maximumDepth)
        XCTAssertNoThrow(try parse(deepest))
        let tooDeep = String(repeating: "[", count: JSONValue.maximumDepth + 1) + String(repeating: "]", count: JSONValue.maximumDepth + 1)
        assertRefused(tooDeep, "nested deeper")
        // A megabyte of brackets is refused at the bound, not by overflowing the stack.
        assertRefused(String(repeating: "[{\"a\":", count: 200_000), "nested deeper")
    }

    func testReportsWhere() {
        XCTAssertThrowsError(try parse("{\"a\": x}")) { error in
            let parseError = error as? JSONValue.ParseError
            XCTAssertEqual(parseError?.reason, "a value was expected")
            XCTAssertEqual(parseError?.offset, 6)
        }
    }

    /// Random documents written by Foundation read back as the same values.
    func testAgreesWithFoundationOnRandomDocuments() throws {
        var generator = SystemRandomNumberGenerator()
        func random(_ depth: Int) -> Any {
            switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
            case 0: return Int64.random(in: .min ... .max, using: &generator)
            case 1:
                let scalars = (0..<Int.random(in: 0..<12, using: &generator)).map { _ in
                    Unicode.Scalar([0x22, 0x5c, 0x0a, 0x01, 0x41, 0xe9, 0x4e2d, 0x1f600].randomElement(using: &generator)!)!
                }
                return String(String.UnicodeScalarView(scalars))
            case 2: return Bool.random(using: &generator)
            case 3: return NSNull()
            case 4: return (0..<Int.random(in: 0..<4, using: &generator)).map { _ in random(depth + 1) }
            default:
                var object: [String: Any] = [:]
                for index in 0..<Int.random(in: 0..<4, using: &generator) { object["k\(index)é"] = random(depth + 1) }
                return object
            }
        }
        func expected(_ value: Any) -> JSONValue {
            switch value {
            case is NSNull: return .null
            case let flag as Bool: return .bool(flag)
            case let number as Int64: return .integer(number)
            case let text as String: return .string(text)
            case let list as [Any]: return .array(list.map(expected))
            case let object as [String: Any]: return .object(object.mapValues(expected))
            default: fatalError("\(value)")
            }
        }
        for _ in 0..<500 {
            let document = ["v": random(0)]
            let text = try JSONSerialization.data(withJSONObject: document)
            XCTAssertEqual(try JSONValue.parse(text), expected(document), String(decoding: text, as: UTF8.self))
        }
    }
}
