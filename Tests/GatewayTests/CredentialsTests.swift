import XCTest

@testable import tessera_gateway

final class CredentialsTests: XCTestCase {
    func testTrimmingTakesSpacesAndTabsOnly() {
        XCTAssertEqual(Credentials.trimmed(" \t token \t"[...].utf8), "token")
        XCTAssertEqual(Credentials.trimmed("a b"[...].utf8), "a b")
        XCTAssertNil(Credentials.trimmed("  \t "[...].utf8))
        XCTAssertNil(Credentials.trimmed(""[...].utf8))
        // HTTP's optional whitespace is a space or a tab: another space is part of the value.
        XCTAssertEqual(Credentials.trimmed("\u{a0}token"[...].utf8), "\u{a0}token")
        XCTAssertEqual(Credentials.trimmed(" tøken "[...].utf8), "tøken")
    }
}
