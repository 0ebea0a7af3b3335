import TesseraModel
import XCTest

final class IdentifierTests: XCTestCase {
    func testHexRoundTripsEveryByteInEitherCase() throws {
        let bytes = (0...255).map { UInt8($0) }
        let text = Hex.format(bytes)
        XCTAssertEqual(text.count, 512)
        XCTAssertEqual(text, text.lowercased())
        XCTAssertEqual(Hex.parse(text), bytes)
        XCTAssertEqual(Hex.parse(text.uppercased()), bytes)
        XCTAssertEqual(Hex.parse(""), [])
    }

    func testHexRefusesAnythingButPairsOfDigits() {
        for text in ["0", "abc", "0g", "+f", "-1", "0x", " 00", "00 ", "ä0"] {
            XCTAssertNil(Hex.parse(text), text)
        }
    }

    func testAnIdIsSixteenBytesShownAsThirtyTwoDigits() throws {
        let hex = "0123456789abcdeffedcba9876543210"
        let id = try XCTUnwrap(SessionID(hex: hex))
        XCTAssertEqual(id.description, hex)
        XCTAssertEqual(id.high, 0x0123_4567_89ab_cdef)
        XCTAssertEqual(id.low, 0xfedc_ba98_7654_3210)
        XCTAssertEqual(id.bytes, Hex.parse(hex))
        XCTAssertEqual(SessionID(bytes: id.bytes), id)
        XCTAssertEqual(SessionID(hex: hex.uppercased()), id)
        XCTAssertEqual(id.withUnsafeBytes { SessionID(unsafeRaw: $0) }, id)
        XCTAssertEqual(SessionID(high: 0, low: 1).description, "00000000000000000000000000000001")
    }

    func testAnIdRefusesOtherLengthsAndSigns() {
        XCTAssertNil(SessionID(bytes: [UInt8](repeating: 1, count: 15)))
        XCTAssertNil(SessionID(bytes: [UInt8](repeating: 1, count: 17)))
        XCTAssertNil(SessionID(hex: "0123456789abcdef0123456789abcde"))
        XCTAssertNil(SessionID(hex: "0123456789abcdef0123456789abcdef0"))
        // A signed half once parsed (an integer parser accepts "+"): 32 characters, not 32 digits.
        XCTAssertNil(SessionID(hex: "+123456789abcdef+123456789abcdef"))
        XCTAssertNil(APIKeyID(hex: "0123456789abcdef 123456789abcdef"))
    }

    func testIdsOfOneValueAreEqualAndHashAlike() {
        let a = SessionID(high: 7, low: 9)
        XCTAssertEqual(a, SessionID(high: 7, low: 9))
        XCTAssertNotEqual(a, SessionID(high: 9, low: 7))
        XCTAssertEqual(Set([a, SessionID(high: 7, low: 9), SessionID(high: 9, low: 7)]).count, 2)
    }

    func testAccountStatesAreNamedAndNumberedAsTheProtocolCarriesThem() {
        XCTAssertEqual(AccountState.allCases.map(\.rawValue), [0, 1, 2])
        XCTAssertEqual(AccountState.allCases.map(\.description), ["active", "unvalidated", "disabled"])
        for state in AccountState.allCases { XCTAssertEqual(AccountState(name: state.description), state) }
        XCTAssertNil(AccountState(name: "locked"))
        XCTAssertEqual(AccountType.allCases.map(\.description), ["user", "service"])
    }
}
