import Foundation
import TesseraClient
import TesseraProtocol
import XCTest

final class AccountLifecycleEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func setUpWithError() throws {
        daemon = DaemonProcess()
        try daemon.start()
    }
    override func tearDown() { daemon.tearDown() }

    private func status(_ body: () async throws -> Void) async -> TesseraError.Code? {
        do {
            try await body()
            return nil
        } catch let TesseraClientError.server(error) {
            return error.code
        } catch {
            return .internal
        }
    }

    func testConcurrentRefreshesOfOneTokenYieldOnePair() async throws {
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let refresh = login.refreshToken
        // Several connections at once, as several browser tabs would.
        let socketPath = daemon.socketPath
        let pairs = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    let tab = TesseraClient(socketPath: socketPath)
                    return try await tab.refresh(refreshToken: refresh).token
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        XCTAssertEqual(pairs.count, 1, "exactly one new pair")
        _ = try await client.verify(token: pairs.first!)
    }

    func testPasswordChangeRevokesOtherSessionsAndDeletionLeavesNothingThatVerifies() async throws {
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let here = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let there = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        try await client.changePassword(token: here.token, current: Array("correct horse".utf8), new: Array("battery staple".utf8))
        _ = try await client.verify(token: here.token)
        let other = await status { _ = try await client.verify(token: there.token) }
        XCTAssertEqual(other, .tokenInvalid)
        let oldPassword = await status { _ = try await client.login(identifier: "alice", password: Array("correct horse".utf8)) }
        XCTAssertEqual(oldPassword, .badCredentials)

        let third = try await client.login(identifier: "alice", password: Array("battery staple".utf8))
        try await client.deleteUser(.username("alice"))
        for token in [here.token, third.token] {
            let verify = await status { _ = try await client.verify(token: token) }
            XCTAssertEqual(verify, .tokenInvalid)
        }
        let refresh = await status { _ = try await client.refresh(refreshToken: third.refreshToken) }
        XCTAssertNotNil(refresh)
        let gone = await status { _ = try await client.user(.username("alice")) }
        XCTAssertEqual(gone, .notFound)
    }
}
