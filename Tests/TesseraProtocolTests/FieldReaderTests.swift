import NIOCore
import NIOEmbedded
import NIOTestUtils
import TesseraProtocol
import XCTest

final class FieldTests: XCTestCase {
    private func body(_ fields: [(UInt8, [UInt8])]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for (tag, value) in fields { try! buffer.writeField(tag, bytes: value) }
        return buffer
    }

    func testUnknownFieldsAreSkipped() throws {
        let decoded = try TokenRequest(decoding: body([(9, [1, 2, 3]), (1, Array("abc".utf8)), (200, [])]))
        XCTAssertEqual(decoded.token, "abc")
    }

    func testDuplicateSingularFieldIsRejected() {
        XCTAssertThrowsError(try TokenRequest(decoding: body([(1, [0x61]), (1, [0x62])]))) {
            XCTAssertEqual($0 as? ProtocolError, .duplicateField(tag: 1))
        }
    }

    func testRepeatedFieldKeepsOrder() throws {
        let reply = try VerifyResponse(
            decoding: body([
                (1, [0, 0, 0, 0, 0, 0, 0, 7]), (2, Array(repeating: 1, count: 16)),
                (3, [0, 0, 0, 0, 0, 0, 0, 1]), (4, Array("b".utf8)), (4, Array("a".utf8)),
            ]))
        XCTAssertEqual(reply.roles, ["b", "a"])
    }

    func testFieldRunningPastTheBodyIsRejected() {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(UInt8(1), UInt16(10))
        buffer.writeBytes([1, 2, 3])
        XCTAssertThrowsError(try TokenRequest(decoding: buffer)) { XCTAssertEqual($0 as? ProtocolError, .truncatedField(tag: 1)) }
    }

    func testInnerLengthThatOverflowsIsRejected() {
        var buffer = ByteBuffer()
        buffer.writeMultipleIntegers(UInt8(1), UInt16.max)
        XCTAssertThrowsError(try TokenRequest(decoding: buffer)) { XCTAssertEqual($0 as? ProtocolError, .truncatedField(tag: 1)) }
    }

    func testTruncatedFieldHeaderIsRejected() {
        XCTAssertThrowsError(try TokenRequest(decoding: ByteBuffer(bytes: [1, 0]))) { XCTAssertEqual($0 as? ProtocolError, .truncatedField(tag: 1)) }
    }

    func testReservedTagIsRejected() {
        XCTAssertThrowsError(try TokenRequest(decoding: body([(0, [])]))) { XCTAssertEqual($0 as? ProtocolError, .reservedTag) }
    }

    func testWrongWidthIntegerIsRejected() {
        XCTAssertThrowsError(try HelloRequest(decoding: body([(1, [1])]))) {
            XCTAssertEqual($0 as? ProtocolError, .badFieldLength(tag: 1, expected: 2, actual: 1))
        }
    }

    func testInvalidUTF8IsRejected() {
        XCTAssertThrowsError(try TokenRequest(decoding: body([(1, [0xff, 0xfe])]))) { XCTAssertEqual($0 as? ProtocolError, .invalidUTF8(tag: 1)) }
    }

    /// A string field takes exactly what Unicode calls UTF-8: the standard library's strict
    /// validation decides every case, the edge cases (overlong forms, surrogates, code points
    /// past U+10FFFF, truncated and stray bytes) and 20,000 random byte strings.
    func testAStringFieldIsValidExactlyWhenItsBytesAreUTF8() {
        let cases: [[UInt8]] = [
            [], [0], [0x41, 0, 0x42], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xED, 0x9F, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF0, 0x9F, 0x98], [0xF0, 0x9F, 0xA6, 0x8A], [0x80], [0xBF, 0x41],
            [0xEF, 0xBF, 0xBD], [0xE2, 0x9C, 0x93], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFE], [0xC3, 0xA9, 0xC3],
        ]
        var generator = SystemRandomNumberGenerator()
        let random = (0..<20_000).map { _ in
            (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                // Mostly bytes that start or continue multi-byte forms.
                Bool.random(using: &generator) ? UInt8.random(in: 0x80...0xFF, using: &generator) : UInt8.random(in: 0...0xFF, using: &generator)
            }
        }
        for bytes in cases + random {
            let expected = String(validating: bytes, as: UTF8.self)
            let decoded = try? TokenRequest(decoding: body([(1, bytes)])).token
            XCTAssertEqual(decoded, expected, "\(bytes.map { String($0, radix: 16) })")
        }
    }

    func testMissingRequiredFieldIsRejected() {
        XCTAssertThrowsError(try LoginRequest(decoding: body([(1, Array("alice".utf8))]))) {
            XCTAssertEqual($0 as? ProtocolError, .missingField(name: "password"))
        }
    }

    func testGetUserNeedsExactlyOneKey() {
        XCTAssertThrowsError(try UserSelector(decoding: body([(1, [0, 0, 0, 0, 0, 0, 0, 1]), (2, Array("a".utf8))])))
        XCTAssertThrowsError(try UserSelector(decoding: body([])))
    }

    func testStatusNamesAreUniqueAndStable() {
        XCTAssertEqual(Set(Status.allCases.map(\.name)).count, Status.allCases.count)
        XCTAssertEqual(Status.badCredentials.rawValue, 1)
        XCTAssertEqual(Status.tokenExpired.name, "token-expired")
        XCTAssertTrue(Status.frameTooLarge.closesConnection)
        XCTAssertFalse(Status.unknownOpcode.closesConnection)
    }
}

final class FieldWriterTests: XCTestCase {
    func testAValueTooLongForAFieldThrowsAndLeavesTheBufferAsItWas() throws {
        var buffer = ByteBuffer()
        try buffer.writeFrame(opcode: 2, requestID: 1) { try $0.writeField(1, bytes: [1, 2]) }
        let before = Array(buffer.readableBytesView)
        XCTAssertThrowsError(
            try buffer.writeFrame(opcode: 2, requestID: 2) { try $0.writeField(1, bytes: [UInt8](repeating: 0, count: 70_000)) }
        ) { XCTAssertEqual($0 as? ProtocolError, .fieldTooLong(tag: 1, length: 70_000)) }
        XCTAssertEqual(Array(buffer.readableBytesView), before, "no half-written frame")
        XCTAssertThrowsError(try buffer.writeField(3, string: String(repeating: "é", count: 35_000))) {
            XCTAssertEqual($0 as? ProtocolError, .fieldTooLong(tag: 3, length: 70_000), "a string's length is its UTF-8 bytes")
        }
        XCTAssertEqual(Array(buffer.readableBytesView), before, "nothing written for a string too long")
        try buffer.writeField(3, string: "né")
        XCTAssertEqual(Array(buffer.readableBytesView.suffix(6)), [3, 0, 3, 0x6E, 0xC3, 0xA9])
        XCTAssertThrowsError(try UserResponse(user: UserInfo(id: 1, username: String(repeating: "u", count: 70_000), createdAt: 0)).encoded())
    }
}
