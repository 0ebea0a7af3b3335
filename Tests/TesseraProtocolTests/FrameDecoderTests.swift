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
