import Foundation
import TesseraClient
import TesseraProtocol
import XCTest

final class RefreshEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    func testRefreshRotatesAndAReplayAfterTheGraceWindowRevokes() async throws {
        daemon = DaemonProcess(arguments: ["--argon2-ops", "1", "--argon2-mem-kib", "64", "--refresh-grace", "1"])
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

        // Replays inside the window keep returning the same pair (nothing changes); the first one
        // after it closes is refused. Wait for that event, up to a deadline.
        let deadline = ContinuousClock.now + .seconds(10)
        var replayed: Status?
        while replayed == nil, ContinuousClock.now < deadline {
            do {
                let again = try await client.refresh(refreshToken: refreshToken)
                XCTAssertEqual(again.token, newToken, "within the grace window: the same pair")
                try await Task.sleep(for: .milliseconds(50))
            } catch let TesseraClientError.server(error) {
                replayed = error.status
            }
        }
        XCTAssertEqual(replayed, .refreshReused, "a replay after the window must fail")
        do {
            _ = try await client.verify(token: newToken)
            XCTFail("the family's session must be gone")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.status, .tokenInvalid)
        }
    }
}
