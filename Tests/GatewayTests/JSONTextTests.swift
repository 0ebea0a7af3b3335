import Foundation
import NIOCore
import XCTest

@testable import tessera_gateway

final class JSONTextTests: XCTestCase {
    private func text(_ write: (inout JSONText) -> Void) -> String {
        var text = JSONText()
        write(&text)
        return String(decoding: text.bytes, as: UTF8.self)
    }

    /// Every day from 0001-01-01 to 9999-12-31 (the model's dates), against a calendar counted
    /// a day at a time with the Gregorian leap rule (RFC 3339's proleptic calendar).
    func testCivilDatesAreTheProlepticGregorianCalendarsEveryDay() {
        func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }
        let lengths = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var (year, month, day) = (1, 1, 1)
        var wrong: [String] = []
        for days in -719_162...2_932_896 {
            let civil = JSONText.civilDate(daysSince1970: days)
            if civil != (year, month, day), wrong.count < 5 { wrong.append("day \(days): \(civil), not \((year, month, day))") }
            day += 1
            if day > lengths[month - 1] + (month == 2 && isLeap(year) ? 1 : 0) {
                (month, day) = (month + 1, 1)
                if month > 12 { (year, month) = (year + 1, 1) }
            }
        }
        XCTAssertEqual(wrong, [])
        XCTAssertEqual([year, month, day], [10_000, 1, 1], "the walk ended after 9999-12-31")
        XCTAssert(JSONText.civilDate(daysSince1970: 0) == (1970, 1, 1))
    }

    /// The same dates as Foundation's Gregorian calendar where it is Gregorian (after 1582).
    func testCivilDatesMatchFoundationsCalendar() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try XCTUnwrap(TimeZone(identifier: "UTC"))
        for days in stride(from: -141_427, through: 2_932_896, by: 97) {
            let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(days) * 86_400))
            let civil = JSONText.civilDate(daysSince1970: days)
            XCTAssertEqual([civil.year, civil.month, civil.day], [parts.year, parts.month, parts.day], "day \(days)")
        }
    }

    func testTimestampsAreRFC3339InUTCWithMilliseconds() {
        let cases: [(Int64, String)] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (-1, "1969-12-31T23:59:59.999Z"),
            (951_782_400_123, "2000-02-29T00:00:00.123Z"),
            (1_764_948_645_007, "2025-12-05T15:30:45.007Z"),
            (-62_135_596_800_000, "0001-01-01T00:00:00.000Z"),
            (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
        ]
        for (milliseconds, expected) in cases {
            XCTAssertEqual(text { $0.write(timestamp: milliseconds) }, "\"\(expected)\"")
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        // From 1811 to 2128, where Foundation's calendar is Gregorian.
        for milliseconds in stride(from: Int64(-5_000_000_000_000), through: 5_000_000_000_000, by: 7_919_999_999) {
            let written = text { $0.write(timestamp: milliseconds) }.dropFirst().dropLast()
            let read = formatter.date(from: String(written))
            XCTAssertEqual(read.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }, milliseconds, String(written))
        }
    }

    func testIntegersAtTheirLimits() {
        for value in [Int64.min, -1_000, -1, 0, 7, 10, 1_000_000, Int64.max] {
            XCTAssertEqual(text { $0.write(integer: value) }, String(value))
        }
    }

    func testStringsAreEscapedAndReadBackAsWritten() throws {
        let strings = ["", "plain", "quote \" and backslash \\", "line\nfeed\rreturn\ttab", "\u{01}\u{1f}\u{7f}", "naïve 🦊 ✓", "\\\"\n"]
        for string in strings {
            let written = text { $0.write(string: string) }
            let read = try JSONSerialization.jsonObject(with: Data(written.utf8), options: .fragmentsAllowed) as? String
            XCTAssertEqual(read, string, written)
            XCTAssertFalse(written.dropFirst().dropLast().unicodeScalars.contains { $0.value < 0x20 }, "a control character left raw: \(written)")
        }
        XCTAssertEqual(text { $0.write(string: "a\u{01}b") }, #""a\u0001b""#)
    }

    /// Text much longer than the first allocation, written in runs, escapes and single bytes
    /// across every growth, reads back whole.
    func testTextLongerThanItsFirstAllocationIsKeptWhole() throws {
        let piece = "naïve \"🦊\"\n\u{01}\\ plain run "
        let long = String(repeating: piece, count: 400)
        var text = JSONText(capacity: 1)
        text.write(byte: UInt8(ascii: "["))
        text.write(string: long)
        text.write(byte: UInt8(ascii: ","))
        text.write(integer: Int64.min)
        text.write(byte: UInt8(ascii: ","))
        text.write(timestamp: 253_402_300_799_999)
        text.write(byte: UInt8(ascii: "]"))
        let written = text.bytes
        XCTAssertGreaterThan(written.count, 400 * piece.utf8.count)
        let read = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(written)) as? [Any])
        XCTAssertEqual(read.first as? String, long)
        XCTAssertEqual((read[1] as? NSNumber)?.int64Value, Int64.min)
        XCTAssertEqual(read.last as? String, "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(Array(text.buffer.readableBytesView), written, "the response buffer holds the same bytes")
    }

    /// A streamed object puts its commas between members and elements, at every depth, and
    /// none after an opening bracket or a key.
    func testAStreamedObjectHasItsCommasWhereJSONPutsThem() {
        let written = text { json in
            json.object {
                $0.member("a", 1)
                $0.key("empty")
                $0.array { _ in }
                $0.key("list")
                $0.array { list in
                    list.value("x")
                    list.object { $0.member("b", .null) }
                    list.object { _ in }
                    list.value([1, 2])
                }
                $0.key("nested")
                $0.object { $0.member("c", true) }
                $0.member("d", ["e": "f"])
            }
        }
        XCTAssertEqual(written, #"{"a":1,"empty":[],"list":["x",{"b":null},{},[1,2]],"nested":{"c":true},"d":{"e":"f"}}"#)
    }

    func testAnObjectKeepsItsMembersInTheOrderWritten() throws {
        var object: JSONObject = ["b": 1, "a": "x", "c": .null]
        object["a"] = .bool(true)
        object["c"] = nil
        object["d"] = [1, .number(2.5), .timestamp(0)]
        var text = JSONText()
        JSON.object(object).write(into: &text)
        XCTAssertEqual(String(decoding: text.bytes, as: UTF8.self), #"{"b":1,"a":true,"d":[1,2.5,"1970-01-01T00:00:00.000Z"]}"#)
        XCTAssertEqual(object["b"], 1)
        XCTAssertNil(object["c"])
    }
}
