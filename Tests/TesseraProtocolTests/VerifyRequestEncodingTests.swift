import NIOCore
import XCTest

@testable import TesseraProtocol

/// VERIFY's request is written by hand (``VerifyRequest/encode(into:)``): it must be the bytes
/// its schema writes, for every combination of its fields.
final class VerifyRequestEncodingTests: XCTestCase {
    private func bySchema(_ request: VerifyRequest) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try withUnsafePointer(to: request) { try VerifyRequest.encode(at: UnsafeRawPointer($0), into: &buffer) }
        return buffer
    }

    func testTheHandWrittenRequestIsTheSchemasBytes() throws {
        for token in ["", "t", "tsr_" + String(repeating: "a", count: 43), "naïve ✓", String(repeating: "x", count: 65_535)] {
            for withUser in [false, true] {
                for withAPIKeys in [false, true] {
                    var request = VerifyRequest()
                    (request.token, request.withUser, request.withAPIKeys) = (token, withUser, withAPIKeys)
                    let written = try request.encoded()
                    XCTAssertEqual(written, try bySchema(request), "token of \(token.utf8.count) bytes, \(withUser), \(withAPIKeys)")
                    XCTAssertEqual(try VerifyRequest(decoding: written), request)
                }
            }
        }
    }

    func testATokenNoFieldCanHoldIsRefusedAsTheSchemaRefusesIt() {
        var request = VerifyRequest()
        request.token = String(repeating: "x", count: 65_536)
        XCTAssertThrowsError(try request.encoded()) { XCTAssertEqual($0 as? ProtocolError, .fieldTooLong(tag: 1, length: 65_536)) }
        XCTAssertThrowsError(try bySchema(request)) { XCTAssertEqual($0 as? ProtocolError, .fieldTooLong(tag: 1, length: 65_536)) }
    }
}
