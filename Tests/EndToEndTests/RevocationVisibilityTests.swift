import Foundation
import TesseraClient
import TesseraProtocol
import XCTest

/// A logout is visible to the very next verify, on any connection: 10,000 times, the logout is
/// acknowledged on one connection and the same token verified on another must be refused. A
/// faster verify path (an in-memory index, a cache) must keep this with no window.
final class RevocationVisibilityTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    func testALogoutIsVisibleToTheNextVerifyOnAnotherConnection() async throws {
        daemon = DaemonProcess()
        try daemon.start()
        let writer = TesseraClient(socketPath: daemon.socketPath)
        let reader = TesseraClient(socketPath: daemon.socketPath)
        _ = try await writer.createUser(username: "alice", password: Array("correct horse".utf8))
        var stillValid = 0
        for _ in 0..<100 {
            // A hundred logins at once (one group commit), then each logout against a verify.
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<100 { group.addTask { try await writer.login(identifier: "alice", password: Array("correct horse".utf8)).token } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for token in tokens {
                _ = try await reader.verify(token: token)  // live, as seen from the reader's connection
                try await writer.logout(token: token)
                do {
                    _ = try await reader.verify(token: token)
                    stillValid += 1
                } catch let error as TesseraClientError {
                    XCTAssertEqual(error.name, "token-invalid")
                }
            }
        }
        XCTAssertEqual(stillValid, 0, "a token verified after its logout was acknowledged")
        await writer.close()
        await reader.close()
    }
}
