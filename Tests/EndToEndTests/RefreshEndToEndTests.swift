import Foundation
import TesseraClient
import TesseraProtocol
import TestSupport
import XCTest

final class RefreshEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    func testRefreshRotatesAndARetryWithinTheGraceWindowGetsTheSamePair() async throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--refresh-grace", "30"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let refreshToken = login.refreshToken

        let cli = try runCommand(DaemonProcess.tessera, ["refresh", refreshToken, "--json", "--socket", daemon.socketPath])
        XCTAssertEqual(cli.status, 0, cli.stderr)
        let pair = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as! [String: Any]
        let newToken = try XCTUnwrap(pair["token"] as? String)
        XCTAssertNotNil(pair["refresh_token"] as? String)
        _ = try await client.verify(token: newToken)

        let retry = try await client.refresh(refreshToken: refreshToken)
        XCTAssertEqual(retry.token, newToken, "within the grace window: the same pair")
    }

    /// With no grace window, a replay of a retired refresh token (a round trip later) is theft:
    /// the family is revoked. The window's length itself is tested with a manual clock in
    /// `RefreshTests`, so no test here waits on wall-clock time.
    func testAReplayOutsideTheGraceWindowRevokesTheFamily() async throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--refresh-grace", "0"])
        try daemon.start()
        let client = TesseraClient(socketPath: daemon.socketPath)
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        let newToken = try await client.refresh(refreshToken: login.refreshToken).token
        _ = try await client.verify(token: newToken)
        do {
            _ = try await client.refresh(refreshToken: login.refreshToken)
            XCTFail("a replay after the window must fail")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .refreshReused)
        }
        do {
            _ = try await client.verify(token: newToken)
            XCTFail("the family's session must be gone")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .tokenInvalid)
        }
    }
}
