import Foundation
import NIOCore
import TesseraClient
import TesseraProtocol
import XCTest

/// The real daemon, through `TesseraClient`.
final class ClientEndToEndTests: XCTestCase {
    var daemon: DaemonProcess!
    override func tearDown() { daemon?.tearDown() }

    private func started(_ arguments: [String]? = nil) throws -> TesseraClient {
        daemon = arguments.map { DaemonProcess(arguments: $0) } ?? DaemonProcess()
        try daemon.start()
        return TesseraClient(socketPath: daemon.socketPath)
    }

    func testCreateLoginVerifyLogout() async throws {
        let client = try started()
        let hello = try await client.hello(clientName: "e2e")
        XCTAssertEqual(hello.protocolVersion, 1)
        XCTAssertEqual(hello.maximumFrameLength, 16384)

        let created = try await client.createUser(
            username: "alice", password: Array("correct horse".utf8), email: "alice@example.com",
            displayName: "Alice", roles: ["admin"])
        XCTAssertEqual(created.username, "alice")
        let fetched = try await client.user(.email("ALICE@example.com"))
        XCTAssertEqual(fetched, created)

        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.9", userAgent: "test")
        var loggedIn = created
        loggedIn.lastLoginAt = try XCTUnwrap(login.user.lastLoginAt, "a login records its time")
        XCTAssertEqual(login.user, loggedIn)
        let session = try await client.verify(token: login.token)
        XCTAssertEqual(session.userID, created.id)
        XCTAssertEqual(session.sessionID, login.sessionID)
        XCTAssertEqual(session.roles, ["admin"])
        XCTAssertEqual(session.expiresAt, login.expiresAt)

        try await client.logout(token: login.token)
        await assertFails(try await client.verify(token: login.token), with: .tokenInvalid)
        await client.close()
    }

    /// LIST_SESSIONS in pages through the daemon: each page bounded, every session listed
    /// once, and the client's `sessions(of:)` walks them all and sorts them oldest first.
    func testSessionsAreListedInPages() async throws {
        let client = try started()
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        var opened: [SessionID] = []
        for _ in 0..<5 { opened.append(try await client.login(identifier: "alice", password: Array("correct horse".utf8)).sessionID) }
        var pages: [[SessionID]] = []
        var after: SessionID?
        repeat {
            let page = try await client.sessions(of: .username("alice"), after: after, limit: 2)
            pages.append(page.sessions.map(\.sessionID))
            after = page.next
        } while after != nil
        XCTAssertEqual(pages.map(\.count), [2, 2, 1])
        XCTAssertEqual(Set(pages.flatMap { $0 }), Set(opened))
        let all = try await client.sessions(of: .username("alice"))
        XCTAssertEqual(Set(all.map(\.sessionID)), Set(opened))
        XCTAssertEqual(all.map(\.createdAt), all.map(\.createdAt).sorted(), "oldest first")
        do {
            _ = try await client.sessions(of: .username("alice"), after: nil, limit: 1001)
            XCTFail("a page is at most 1,000")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .invalidArgument)
        }
    }

    func testBadInputGetsClearErrorsAndTheDaemonKeepsServing() async throws {
        let client = try started()
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8), email: "a@example.com")
        await assertFails(try await client.login(identifier: "alice", password: Array("wrong!!!".utf8)), with: .badCredentials)
        await assertFails(try await client.login(identifier: "nobody", password: Array("wrong!!!".utf8)), with: .badCredentials)
        await assertFails(try await client.createUser(username: "alice", password: Array("correct horse".utf8)), with: .conflict)
        await assertFails(
            try await client.createUser(username: "bob", password: Array("correct horse".utf8), email: "A@example.com"), with: .conflict)
        await assertFails(try await client.createUser(username: "", password: Array("correct horse".utf8)), with: .invalidArgument)
        await assertFails(
            try await client.createUser(username: String(repeating: "x", count: 65), password: Array("correct horse".utf8)), with: .invalidArgument)
        await assertFails(try await client.createUser(username: "carol", password: []), with: .invalidArgument)
        await assertFails(try await client.login(identifier: "", password: Array("x".utf8)), with: .invalidArgument)
        await assertFails(try await client.verify(token: "not-a-token"), with: .tokenInvalid)
        await assertFails(try await client.verify(token: ""), with: .tokenInvalid)
        await assertFails(try await client.user(.username("nobody")), with: .notFound)
        // A frame bigger than the limit closes that connection only.
        await assertFails(try await client.createUser(username: "dave", password: Array(repeating: 0x61, count: 20000)), with: .frameTooLarge)
        let other = TesseraClient(socketPath: daemon.socketPath)
        _ = try await other.ping()
        // And the first client reconnects by itself.
        _ = try await client.ping()
    }

    func testErrorRepliesCarryATraceIdThatIsInTheLog() async throws {
        let client = try started()
        do {
            _ = try await client.login(identifier: "ghost", password: Array("whatever".utf8))
            XCTFail("must fail")
        } catch let TesseraClientError.server(error) {
            let trace = try XCTUnwrap(error.traceID)
            XCTAssertEqual(trace.count, 16)
            daemon.stop()
            XCTAssertTrue(daemon.log.contains(trace), "the daemon's log line quotes the trace id")
            XCTAssertFalse(daemon.log.contains("whatever"), "no password in the log")
        }
    }

    /// Many verifies pipelined on one connection behind a slow login are answered first.
    func testVerifiesAreNotStuckBehindALoginOnTheSameConnection() async throws {
        // A deliberately slow hash: about 100 ms of argon2id.
        let client = try started(["--argon2-ops", "4", "--argon2-mem-kib", "65536"])
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let token = try await client.login(identifier: "alice", password: Array("correct horse".utf8)).token

        // The login first on the wire, then 200 verifies, in one write on one connection. The
        // test is about order, not time: the reads wait as long as a loaded machine (or
        // AddressSanitizer) makes the hash take.
        let connection = try RawConnection(path: daemon.socketPath, timeoutSeconds: 120)
        connection.sendTogether(
            [(.login, 1, LoginRequest(identifier: "alice", password: Array("correct horse".utf8)))]
                + (2...201).map { (.verify, UInt32($0), VerifyRequest(token: token)) })
        let replies = (0..<201).compactMap { _ in connection.readFrame() }
        XCTAssertEqual(replies.count, 201)
        XCTAssertEqual(replies.map(\.status), Array(repeating: 0, count: 201))
        XCTAssertEqual(replies.last?.requestID, 1, "every verify was answered while the login was still hashing")
    }

    func testRestartKeepsUsersAndLiveSessionsAndTheClientReconnects() async throws {
        let client = try started()
        let user = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        let login = try await client.login(identifier: "alice", password: Array("correct horse".utf8))
        XCTAssertEqual(daemon.stop(), 0, "SIGTERM is a clean exit")
        try daemon.start()
        let session = try await client.verify(token: login.token)
        XCTAssertEqual(session.userID, user.id)
        var again = try await client.user(.username("alice"))
        XCTAssertNotNil(again.lastLoginAt)
        again.lastLoginAt = nil
        XCTAssertEqual(again, user)
    }

    func testGracefulShutdownFinishesTheLoginInFlight() async throws {
        let client = try started(["--argon2-ops", "4", "--argon2-mem-kib", "65536"])
        _ = try await client.createUser(username: "alice", password: Array("correct horse".utf8))
        // A PING after the LOGIN in the same write: its reply proves the LOGIN was read and is
        // hashing. The reads wait as long as a loaded machine makes the hash take.
        let connection = try RawConnection(path: daemon.socketPath, timeoutSeconds: 120)
        connection.sendTogether([(.login, 1, LoginRequest(identifier: "alice", password: Array("correct horse".utf8))), (.ping, 2, PingMessage())])
        XCTAssertEqual(connection.readFrame()?.requestID, 2)
        kill(daemon.process!.processIdentifier, SIGTERM)
        let reply = try XCTUnwrap(connection.readFrame())
        XCTAssertEqual(reply.requestID, 1)
        XCTAssertEqual(reply.status, 0)
        XCTAssertEqual(try LoginResponse(decoding: reply.body).user.username, "alice")
        daemon.process!.waitUntilExit()
        XCTAssertEqual(daemon.process!.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: daemon.socketPath), "the socket file is removed on a clean stop")
    }

    private func assertFails<T>(
        _ body: @autoclosure () async throws -> T, with status: TesseraError.Code, file: StaticString = #filePath, line: UInt = #line
    ) async {
        do {
            _ = try await body()
            XCTFail("expected \(status)", file: file, line: line)
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, status, error.description, file: file, line: line)
            XCTAssertEqual(error.name, status.description, file: file, line: line)
            XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        } catch {
            XCTFail("expected \(status), got \(error)", file: file, line: line)
        }
    }
}
