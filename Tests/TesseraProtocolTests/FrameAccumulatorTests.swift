import NIOCore
import TesseraProtocol
import XCTest

final class FrameAccumulatorTests: XCTestCase {
    private let frames = (0..<12).map { i in
        Frame(opcode: 0x21, requestID: UInt32(i), body: ByteBuffer(bytes: Array(repeating: UInt8(i), count: i * 11)))
    }

    private var stream: ByteBuffer {
        var buffer = ByteBuffer()
        for frame in frames { buffer.writeFrame(frame) }
        return buffer
    }

    /// Feeds `stream` cut into chunks of `size` bytes and collects every frame.
    private func split(chunkSize size: Int) throws -> [Frame] {
        var accumulator = FrameAccumulator(maximumLength: 4096)
        var source = stream
        var out: [Frame] = []
        while source.readableBytes > 0 {
            var chunk = source.readSlice(length: min(size, source.readableBytes))!
            accumulator.append(&chunk)
            while let frame = try accumulator.next() { out.append(frame) }
        }
        XCTAssertEqual(accumulator.bufferedBytes, 0)
        return out
    }

    func testByteByByteInChunksAndWhole() throws {
        for size in [1, 2, 3, 7, 12, 13, 64, 1000, stream.readableBytes] {
            XCTAssertEqual(try split(chunkSize: size), frames, "chunks of \(size)")
        }
    }

    func testAHostileLengthFailsBeforeItsBodyArrives() {
        var accumulator = FrameAccumulator(maximumLength: 100)
        var header = ByteBuffer()
        header.writeInteger(UInt32(101))
        accumulator.append(&header)
        XCTAssertThrowsError(try accumulator.next()) { XCTAssertEqual($0 as? ProtocolError, .frameTooLarge(length: 101, maximum: 100)) }
    }

    func testAPartialFrameIsKeptUntilItCompletes() throws {
        var accumulator = FrameAccumulator(maximumLength: 4096)
        var whole = stream
        var head = whole.readSlice(length: 5)!
        accumulator.append(&head)
        XCTAssertNil(try accumulator.next())
        XCTAssertEqual(accumulator.bufferedBytes, 5)
        accumulator.append(&whole)
        XCTAssertEqual(try accumulator.next(), frames[0])
    }
}
