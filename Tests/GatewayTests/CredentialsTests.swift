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

final class ContentTypeTests: XCTestCase {
    func testOnlyJSONMediaTypesAreJSON() {
        for type in [
            "application/json", "Application/JSON; charset=utf-8", " application/json ;x=y", "application/json-patch+json",
            "\tapplication/problem+json",
        ] {
            XCTAssertTrue(RequestBody.isJSON(type), type)
        }
        // An empty value or one with parameters alone is no media type (an empty one once
        // trapped on the first element of an empty split).
        for type in [
            nil, "", " ", ";", "; application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonp",
        ] {
            XCTAssertFalse(RequestBody.isJSON(type), type ?? "nil")
        }
    }
}
