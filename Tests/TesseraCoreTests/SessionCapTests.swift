import Foundation
import XCTest

@_spi(TesseraInternal) @testable import TesseraCore

final class SessionCapTests: XCTestCase {
    func testALoginBeyondTheCapEndsTheOldestSession() async throws {
        let fixture = try CoreFixture { $0.maximumSessionsPerUser = 2 }
        defer { fixture.tearDown() }
        try await fixture.createUser("alice")
        let first = try await fixture.login("alice")
        fixture.clock.advance(by: 1)
        let second = try await fixture.login("alice")
        fixture.clock.advance(by: 1)
        let third = try await fixture.login("alice")
        XCTAssertThrowsError(try fixture.service.verification.verify(token: first.token), "the oldest was evicted")
        XCTAssertNoThrow(try fixture.service.verification.verify(token: second.token))
        XCTAssertNoThrow(try fixture.service.verification.verify(token: third.token))
        XCTAssertEqual(try fixture.service.sessions.list(of: .username("alice"), limit: 1000).sessions.count, 2)
    }
}
