import Foundation
import NIOCore
import ProtocolVectors
import TesseraProtocol
import XCTest

/// `Protocol/vectors/*.hex` and the codec agree in both directions.
final class TestVectorTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Protocol/vectors")

    func testEveryVectorFileIsListed() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".hex") }
        XCTAssertEqual(Set(files), Set(TestVector.all.map { "\($0.name).hex" }))
    }

    func testDecodeEveryVector() throws {
        for vector in TestVector.all {
            let text = try String(contentsOf: Self.directory.appendingPathComponent("\(vector.name).hex"), encoding: .utf8)
            var buffer = ByteBuffer(bytes: TestVector.parse(text))
            let frame = try XCTUnwrap(try FrameDecoder.decodeFrame(from: &buffer, maximumLength: 1 << 20), vector.name)
            XCTAssertEqual(buffer.readableBytes, 0, vector.name)
            XCTAssertEqual(frame.opcode, vector.opcode, vector.name)
            XCTAssertEqual(frame.flags, vector.flags, vector.name)
            XCTAssertEqual(frame.status, vector.status, vector.name)
            XCTAssertEqual(frame.requestID, vector.requestID, vector.name)
            let decoded = try vector.decodeMessage(frame.body)
            XCTAssertTrue(isEqual(decoded, vector.message), "\(vector.name): decoded \(decoded), expected \(vector.message)")
        }
    }

    func testEncodeEveryVector() throws {
        for vector in TestVector.all {
            let text = try String(contentsOf: Self.directory.appendingPathComponent("\(vector.name).hex"), encoding: .utf8)
            XCTAssertEqual(vector.bytes, TestVector.parse(text), vector.name)
        }
    }

    func testDecodedThenReencodedIsIdentical() throws {
        for vector in TestVector.all {
            let text = try String(contentsOf: Self.directory.appendingPathComponent("\(vector.name).hex"), encoding: .utf8)
            let original = TestVector.parse(text)
            var buffer = ByteBuffer(bytes: original)
            let frame = try XCTUnwrap(try FrameDecoder.decodeFrame(from: &buffer, maximumLength: 1 << 20))
            let message = try vector.decodeMessage(frame.body)
            var out = ByteBuffer()
            try out.writeFrame(opcode: frame.opcode, flags: frame.flags, status: frame.status, requestID: frame.requestID) {
                try message.encode(into: &$0)
            }
            XCTAssertEqual(Array(out.readableBytesView), original, vector.name)
        }
    }

    private func isEqual(_ a: any SchemaMessage, _ b: any SchemaMessage) -> Bool {
        func open<T: SchemaMessage>(_ a: T) -> Bool { (b as? T) == a }
        return open(a)
    }
}
