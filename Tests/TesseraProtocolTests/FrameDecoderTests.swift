import NIOCore
import NIOEmbedded
import NIOTestUtils
import TesseraProtocol
import XCTest

final class FrameDecoderTests: XCTestCase {
    private func frameBytes(opcode: UInt8, requestID: UInt32, body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(opcode: opcode, requestID: requestID) { $0.writeBytes(body) }
        return buffer
    }

    func testDecoderVerifierByteByByteChunksAndWhole() throws {
        let frames = (0..<20).map { i in
            Frame(opcode: UInt8(0x21), requestID: UInt32(i), body: ByteBuffer(bytes: Array(repeating: UInt8(i), count: i * 7)))
        }
        let pairs = frames.map { frame -> (ByteBuffer, [Frame]) in
            var buffer = ByteBuffer()
            buffer.writeFrame(frame)
            return (buffer, [frame])
        }
        XCTAssertNoThrow(try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder(maximumLength: 4096) })
    }

    func testPartialFrameLeavesReaderIndexAlone() throws {
        var whole = frameBytes(opcode: 2, requestID: 9, body: [1, 2, 3])
        for cut in 0..<whole.readableBytes {
            var partial = whole.getSlice(at: 0, length: cut)!
            XCTAssertNil(try FrameDecoder.decodeFrame(from: &partial, maximumLength: 100))
            XCTAssertEqual(partial.readerIndex, 0)
        }
        let frame = try XCTUnwrap(FrameDecoder.decodeFrame(from: &whole, maximumLength: 100))
        XCTAssertEqual(frame.requestID, 9)
        XCTAssertEqual(Array(frame.body.readableBytesView), [1, 2, 3])
    }

    /// Hostile lengths fail as soon as the 4 length bytes are in, before any body is buffered.
    func testHostileLengthsAreRejectedFromTheLengthFieldAlone() {
        let cases: [(UInt32, ProtocolError)] = [
            (0, .frameTooShort(length: 0)),
            (7, .frameTooShort(length: 7)),
            (4097, .frameTooLarge(length: 4097, maximum: 4096)),
            (1 << 31, .frameTooLarge(length: 1 << 31, maximum: 4096)),
            (0xFFFF_FFFF, .frameTooLarge(length: 0xFFFF_FFFF, maximum: 4096)),
        ]
        for (length, expected) in cases {
            var buffer = ByteBuffer()
            buffer.writeInteger(length)
            XCTAssertThrowsError(try FrameDecoder.decodeFrame(from: &buffer, maximumLength: 4096)) { error in
                XCTAssertEqual(error as? ProtocolError, expected, "length \(length)")
            }
        }
    }

    func testMaximumLengthItselfIsAccepted() throws {
        var buffer = frameBytes(opcode: 2, requestID: 1, body: Array(repeating: 0, count: 4096 - 8))
        XCTAssertNotNil(try FrameDecoder.decodeFrame(from: &buffer, maximumLength: 4096))
    }

    func testPipelineClosesOnOversizedFrame() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(maximumLength: 64)))
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(65))
        XCTAssertThrowsError(try channel.writeInbound(buffer)) { error in
            XCTAssertEqual(error as? ProtocolError, .frameTooLarge(length: 65, maximum: 64))
        }
        _ = try? channel.finish()
    }
}

final class FieldTests: XCTestCase {
    private func body(_ fields: [(UInt8, [UInt8])]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for (tag, value) in fields { buffer.writeField(tag, bytes: value) }
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
