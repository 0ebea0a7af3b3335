import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TesseraClient
import TesseraProtocol
import XCTest

final class SessionIDTests: XCTestCase {
    func testHexRoundTripAndRejects() throws {
        let id = try XCTUnwrap(SessionID(hex: "28F034C438BEAE98605841D282DEB97D"))
        XCTAssertEqual(id.bytes, [0x28, 0xf0, 0x34, 0xc4, 0x38, 0xbe, 0xae, 0x98, 0x60, 0x58, 0x41, 0xd2, 0x82, 0xde, 0xb9, 0x7d])
        XCTAssertEqual(id.description, "28f034c438beae98605841d282deb97d")
        XCTAssertEqual(SessionID(hex: id.description), id)
        for bad in ["", "28f0", "28f034c438beae98605841d282deb97", "28f034c438beae98605841d282deb97g", "28f034c438beae98605841d282deb97d00"] {
            XCTAssertNil(SessionID(hex: bad), bad)
        }
        XCTAssertNil(SessionID(bytes: [1, 2, 3]))
    }
}
