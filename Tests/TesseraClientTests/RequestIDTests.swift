import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TesseraProtocol
import XCTest

@testable import TesseraClient

/// A reply reaches only the request sent with its id: ids in use are never given again, 0 is
/// never given, and a request that waits past its deadline fails alone (its late reply is
/// dropped, not handed to another caller).
final class RequestIDTests: XCTestCase {
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private var server: FakeServer?

    override func tearDown() async throws {
        server?.stop()
        try await group.shutdownGracefully()
    }

    func testIDsSkipZeroAndEveryIDStillInUse() {
        var ids = RequestIDs(next: 5)
        XCTAssertEqual(ids.take { [5, 6].contains($0) }, 7)
        XCTAssertEqual(ids.take { _ in false }, 8)
        ids = RequestIDs(next: .max - 1)
        let inUse: Set<UInt32> = [.max, 1]
        XCTAssertEqual(ids.take { inUse.contains($0) }, .max - 1)
        XCTAssertEqual(ids.take { inUse.contains($0) }, 2, "past the wrap: not max (in use), not 0, not 1 (in use)")
        XCTAssertEqual(ids.take { _ in false }, 3)
    }

    /// The connection's counter driven to the wrap while a request waits: every reply still
    /// reaches its own caller.
    func testTheCounterWrapsWithoutHandingOneCallersReplyToAnother() async throws {
        // PING echoes its payload; a payload of "hold" is answered only when the next PING comes.
        let held = NIOLockedValueBox<Frame?>(nil)
        let (heldArrived, signal) = AsyncStream<Void>.makeStream()
        let server = try FakeServer(group: group) { frame in
            let payload = (try? PingMessage(decoding: frame.body).payload) ?? []
            if payload == Array("hold".utf8) {
                held.withLockedValue { $0 = frame }
                signal.yield()
                return []
            }
            let release = held.withLockedValue { frame -> Frame? in
                defer { frame = nil }
                return frame
            }
            return [FakeServer.reply(to: frame, PingMessage(payload: payload))]
                + (release.map { [FakeServer.reply(to: $0, PingMessage(payload: Array("hold".utf8)))] } ?? [])
        }
        self.server = server
        let client = TesseraClient(socketPath: server.socketPath, eventLoopGroup: group, requestTimeout: .seconds(30), firstRequestID: .max - 1)
        async let holding = client.ping(payload: Array("hold".utf8))
        // The held request goes first: wait until the server reports it has it.
        var arrivals = heldArrived.makeAsyncIterator()
        _ = await arrivals.next()
        XCTAssertEqual(server.requests.count, 1)
        var answers: [[UInt8]] = []
        for round in 0..<4 { answers.append(try await client.ping(payload: Array("p\(round)".utf8))) }
        let held2 = try await holding
        XCTAssertEqual(held2, Array("hold".utf8), "the held request got its own reply")
        XCTAssertEqual(answers, (0..<4).map { Array("p\($0)".utf8) })
        XCTAssertEqual(server.requests.map(\.requestID), [.max - 1, .max, 1, 2, 3], "0 is skipped at the wrap")
        await client.close()
    }

    func testARequestPastItsDeadlineFailsAloneAndItsLateReplyIsDropped() async throws {
        let held = NIOLockedValueBox<Frame?>(nil)
        let server = try FakeServer(group: group) { frame in
            let payload = (try? PingMessage(decoding: frame.body).payload) ?? []
            if payload == Array("slow".utf8) {
                held.withLockedValue { $0 = frame }
                return []
            }
            // The slow request's reply comes late, just before this one's: it must not be taken for it.
            let late = held.withLockedValue { frame -> Frame? in
                defer { frame = nil }
                return frame
            }
            return (late.map { [FakeServer.reply(to: $0, PingMessage(payload: Array("slow".utf8)))] } ?? [])
                + [FakeServer.reply(to: frame, PingMessage(payload: payload))]
        }
        self.server = server
        let client = TesseraClient(socketPath: server.socketPath, eventLoopGroup: group)
        XCTAssertEqual(client.requestTimeout, .seconds(60))
        let started = ContinuousClock.now
        do {
            _ = try await TesseraClient.withRequestTimeout(.milliseconds(200)) { try await client.ping(payload: Array("slow".utf8)) }
            XCTFail("no reply came: the call must time out")
        } catch TesseraClientError.timedOut(let after) {
            XCTAssertEqual(after, .milliseconds(200))
            XCTAssertLessThan(ContinuousClock.now - started, .seconds(20))
        }
        let next = try await client.ping(payload: Array("next".utf8))
        XCTAssertEqual(next, Array("next".utf8), "the late reply to the timed-out request went nowhere")
        XCTAssertEqual(Set(server.requests.map(\.requestID)).count, 2)
        await client.close()
    }
}
