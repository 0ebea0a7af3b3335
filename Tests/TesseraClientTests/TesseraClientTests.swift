import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TesseraClient
import TesseraProtocol
import XCTest

/// `TesseraClient` against ``FakeServer``: what the client does with replies, whatever order
/// and shape they come in.
final class TesseraClientTests: XCTestCase {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var server: FakeServer?

    override func tearDown() async throws {
        server?.stop()
        try await group.shutdownGracefully()
    }

    private func client(_ respond: @escaping FakeServer.Responder) throws -> TesseraClient {
        let server = try FakeServer(group: group, respond: respond)
        self.server = server
        return TesseraClient(socketPath: server.socketPath, eventLoopGroup: group)
    }

    static let user = UserInfo(id: 7, username: "alice", createdAt: 1_767_225_600_000, roles: ["admin"])

    func testRepliesAreMatchedByRequestIDWhateverTheirOrder() async throws {
        // Holds VERIFYs until three arrived, then answers them in reverse order.
        let held = NIOLockedValueBox<[Frame]>([])
        let client = try client { frame in
            let batch = held.withLockedValue { held -> [Frame] in
                held.append(frame)
                guard held.count == 3 else { return [] }
                defer { held.removeAll() }
                return held
            }
            return batch.reversed().map { request in
                let token = (try? VerifyRequest(decoding: request.body).token) ?? ""
                return FakeServer.reply(
                    to: request,
                    VerifyResponse(
                        userID: UInt64(token.utf8.count), sessionID: Array(repeating: 1, count: 16),
                        expiresAt: 1, roles: [token]))
            }
        }
        async let a = client.verify(token: "a")
        async let bb = client.verify(token: "bb")
        async let ccc = client.verify(token: "ccc")
        let replies = try await [a, bb, ccc]
        XCTAssertEqual(replies.map(\.roles), [["a"], ["bb"], ["ccc"]])
        XCTAssertEqual(replies.map(\.userID), [1, 2, 3])
        XCTAssertEqual(Set(server!.requests.map(\.requestID)).count, 3, "each request had its own id")
        XCTAssertFalse(server!.requests.map(\.requestID).contains(0), "id 0 is the server's")
        await client.close()
    }

    func testAnErrorFrameBecomesATypedTesseraError() async throws {
        let client = try client { [FakeServer.error(to: $0, .locked)] }
        do {
            _ = try await client.login(identifier: "alice", password: Array("pw".utf8))
            XCTFail("expected an error")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .locked)
            XCTAssertEqual(error.name, "locked")
            XCTAssertEqual(error.traceID, "0011223344556677")
            XCTAssertFalse(error.closedConnection)
        }
        await client.close()
    }

    func testTheRequestCarriesTheOperationsBytes() async throws {
        let client = try client {
            [
                FakeServer.reply(
                    to: $0,
                    LoginResponse(
                        token: "t", sessionID: Array(repeating: 2, count: 16), expiresAt: 5,
                        user: Self.user, refreshToken: "r", refreshExpiresAt: 6))
            ]
        }
        let reply = try await client.login(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.7")
        XCTAssertEqual(reply.user.id, 7)
        XCTAssertEqual(reply.user.username, "alice")
        XCTAssertEqual(reply.user.roles, ["admin"])
        XCTAssertEqual(reply.user.state, .active)
        XCTAssertEqual(reply.sessionID.bytes, Array(repeating: 2, count: 16))
        XCTAssertEqual(reply.refreshToken, "r")
        let request = try XCTUnwrap(server?.requests.first)
        XCTAssertEqual(request.opcode, Opcode.login.rawValue)
        XCTAssertEqual(request.flags, [])
        XCTAssertEqual(request.status, 0)
        XCTAssertEqual(
            try LoginRequest(decoding: request.body),
            LoginRequest(identifier: "alice", password: Array("correct horse".utf8), clientIP: "203.0.113.7", userAgent: nil))
        await client.close()
    }

    /// A call runs on its caller's executor (`nonisolated(nonsending)`): from an actor whose
    /// executor is an event loop, the call's code (here its decoding of the reply) runs on that
    /// loop, not on Swift's generic executor, which a hop there and back would put it on.
    func testACallRunsOnItsCallersExecutor() async throws {
        let client = try client { [FakeServer.reply(to: $0, PingMessage(payload: [7]))] }
        let callerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let caller = OnLoop(callerGroup.next())
        let (payload, decodedOnCallersLoop) = try await caller.ping(client)
        XCTAssertEqual(payload, [7])
        XCTAssertTrue(decodedOnCallersLoop, "the call left its caller's executor")
        await client.close()
        try await callerGroup.shutdownGracefully()
    }

    /// An actor whose jobs run on one event loop.
    private actor OnLoop {
        let loop: any EventLoop
        nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

        init(_ loop: any EventLoop) { self.loop = loop }

        /// A PING's payload, and whether its reply was decoded on this actor's loop.
        func ping(_ client: TesseraClient) async throws -> ([UInt8], Bool) {
            var decodedOnLoop = false
            let reply = try await client.call(Operations.ping, PingMessage(payload: [7])) { body in
                decodedOnLoop = loop.inEventLoop
                return try PingMessage(decoding: body)
            }
            return (reply.payload, decodedOnLoop)
        }
    }

    func testAMalformedReplyIsReportedAsSuch() async throws {
        let client = try client { request in
            var buffer = ByteBuffer()
            buffer.writeFrame(opcode: request.opcode, flags: .response, requestID: request.requestID) { $0.writeBytes([1, 0, 50, 9]) }
            return [buffer]
        }
        do {
            _ = try await client.verify(token: "t")
            XCTFail("expected an error")
        } catch let error as TesseraClientError {
            XCTAssertEqual(error.name, "malformed-reply")
        }
        await client.close()
    }

    func testAClosingErrorFailsEveryWaitingRequestAndTheNextOneReconnects() async throws {
        let calls = NIOLockedValueBox(0)
        let client = try client { request in
            let call = calls.withLockedValue {
                $0 += 1
                return $0
            }
            guard call > 1 else {
                var closing = ByteBuffer()
                try! closing.writeFrame(opcode: 0, flags: [.response, .closing], status: Status.frameTooLarge.rawValue, requestID: 0) {
                    try ErrorBody(name: "frame-too-large", message: "fake").encode(into: &$0)
                }
                return [closing, ByteBuffer()]
            }
            return [FakeServer.reply(to: request, PingMessage(payload: [9]))]
        }
        do {
            _ = try await client.ping()
            XCTFail("expected an error")
        } catch let TesseraClientError.server(error) {
            XCTAssertEqual(error.code, .frameTooLarge)
            XCTAssertTrue(error.closedConnection)
        }
        let after = try await client.ping(payload: [9])
        XCTAssertEqual(after, [9], "the next request opened a new connection")
        await client.close()
    }

    func testAnUnreachableSocketIsCannotConnect() async throws {
        let client = TesseraClient(socketPath: "/nonexistent/tessera.sock", eventLoopGroup: group)
        do {
            _ = try await client.ping()
            XCTFail("expected an error")
        } catch let error as TesseraClientError {
            XCTAssertEqual(error.name, "cannot-connect")
        }
    }
}

/// The client's error codes are the protocol's statuses: the same numbers, the same names.
final class ErrorCodeTests: XCTestCase {
    func testEveryStatusHasItsCodeAndName() {
        let known = Dictionary(uniqueKeysWithValues: TesseraError.Code.known.map { ($0.code.rawValue, $0.name) })
        for status in Status.allCases where status != .ok {
            XCTAssertEqual(known[status.rawValue], status.name, "\(status)")
        }
        XCTAssertEqual(known.count, Status.allCases.count - 1)
    }
}
