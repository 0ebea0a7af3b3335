import HTTPTypes
import Hummingbird
import NIOCore
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

    private func request(_ fields: [(HTTPField.Name, String)]) -> Request {
        var headers = HTTPFields()
        for (name, value) in fields { headers.append(HTTPField(name: name, value: value)) }
        let head = HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/", headerFields: headers)
        return Request(head: head, body: Hummingbird.RequestBody(buffer: ByteBuffer()))
    }

    /// A header given once is its value; given twice, both joined as `HTTPFields` joins them,
    /// which no credential matches (the second is never ignored in favour of the first).
    func testAHeaderIsItsOneValueOrEveryValueJoined() {
        XCTAssertEqual(Credentials.value(request([(.accept, "x"), (.authorization, "Bearer abc")]), .authorization), "Bearer abc")
        XCTAssertNil(Credentials.value(request([(.accept, "x")]), .authorization))
        let twice = request([(.authorization, "Bearer abc"), (.accept, "x"), (.authorization, "Bearer def")])
        XCTAssertEqual(Credentials.value(twice, .authorization), "Bearer abc, Bearer def")
        XCTAssertEqual(Credentials.bearer(twice), "abc, Bearer def")
        XCTAssertEqual(Credentials.bearer(request([(HTTPField.Name("AUTHORIZATION")!, "bearer  t ")])), "t")
        XCTAssertEqual(Credentials.header(request([(.userID, " u1\t")]), .userID), "u1")
        XCTAssertEqual(Credentials.cookie(request([(.cookie, "a=1; unleash-session=s"), (.cookie, "b=2")]), "b"), "2")
    }
}

final class ContentTypeTests: XCTestCase {
    func testOnlyJSONMediaTypesAreJSON() {
        for type in [
            "application/json", "Application/JSON; charset=utf-8", " application/json ;x=y", "application/json-patch+json",
            "\tapplication/problem+json",
        ] {
            XCTAssertTrue(tessera_gateway.RequestBody.isJSON(type), type)
        }
        // An empty value or one with parameters alone is no media type (an empty one once
        // trapped on the first element of an empty split).
        for type in [
            nil, "", " ", ";", "; application/json", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonp",
        ] {
            XCTAssertFalse(tessera_gateway.RequestBody.isJSON(type), type ?? "nil")
        }
    }
}
