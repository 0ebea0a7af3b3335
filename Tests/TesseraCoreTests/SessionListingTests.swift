import Foundation
import TesseraModel
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

/// LIST_SESSIONS pages: bounded, in session id order, each page continuing exactly after the
/// last id of the one before, so a user with many sessions is listed in cheap steps.
final class SessionListingTests: XCTestCase {
    func testPagesCoverEverySessionOnceInIDOrder() async throws {
        let fixture = try CoreFixture()
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        try await fixture.createUser("bob")
        var opened: [SessionID] = []
        for _ in 0..<7 { opened.append(try await fixture.login("alice").sessionID) }
        _ = try await fixture.login("bob")  // next in the index, never in alice's pages

        var pages: [[SessionID]] = []
        var after: SessionID?
        repeat {
            let page = try fixture.service.sessions.list(of: .username("alice"), after: after, limit: 3)
            pages.append(page.sessions.map(\.id))
            after = page.next
            XCTAssertEqual(page.next, page.sessions.count == 3 ? page.sessions.last?.id : nil, "a full page says where to go on")
        } while after != nil
        XCTAssertEqual(pages.map(\.count), [3, 3, 1])
        let listed = pages.flatMap { $0 }
        XCTAssertEqual(listed, opened.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) })
    }

    func testAPageThatEndsExactlyAtTheLastSessionIsFollowedByAnEmptyOne() async throws {
        let fixture = try CoreFixture()
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        for _ in 0..<2 { _ = try await fixture.login("alice") }
        let first = try fixture.service.sessions.list(of: .username("alice"), limit: 2)
        XCTAssertEqual(first.sessions.count, 2)
        let next = try XCTUnwrap(first.next)
        let second = try fixture.service.sessions.list(of: .username("alice"), after: next, limit: 2)
        XCTAssertEqual(second.sessions, [])
        XCTAssertNil(second.next)
    }
}
