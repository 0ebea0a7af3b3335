import Locking
import Logging
import NIOCore
import TesseraProtocol
import XCTest

@testable import TesseraServer

#if canImport(Glibc)
import Glibc
#endif

/// The real ``Connection`` on a real ``SocketLoop``, over a socketpair, with a fake dispatcher:
/// exact reply bytes, batching, pipelining order, back-pressure on slow requests, draining,
/// framing errors. No daemon, no listening socket.
final class ConnectionTests: XCTestCase {
    private var dispatcher: FakeDispatcher!
    private var loop: SocketLoop<FakeDispatcher>!
    private var tracker: ConnectionTracker!
    /// The client's end of the socketpair (blocking, with a receive timeout).
    private var client: Int32 = -1

    override func setUpWithError() throws {
        dispatcher = FakeDispatcher(maximumInFlight: 2)
        tracker = ConnectionTracker()
        loop = try SocketLoop(
            dispatcher: dispatcher, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            tracker: tracker, policy: PeerPolicy(), limits: ConnectionLimits(), quota: ConnectionQuota(maximum: 8))
        try loop.start(listener: nil)
        client = servedSocketPair()
    }

    /// A socketpair whose server end the loop serves; returns the client's end (blocking, with
    /// a 10 s receive timeout).
    private func servedSocketPair() -> Int32 {
        var pair: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair), 0)
        XCTAssertEqual(fcntl(pair[1], F_SETFL, fcntl(pair[1], F_GETFL) | O_NONBLOCK), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        loop.serve(pair[1])
        return pair[0]
    }

    override func tearDown() {
        loop.stop()
        if client >= 0 { close(client) }
    }

    private func frame(_ opcode: Opcode, id: UInt32, body: String = "") -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(opcode: opcode.rawValue, requestID: id) { $0.writeString(body) }
        return buffer
    }

    /// Sends `frames` in one write.
    private func send(_ frames: ByteBuffer...) {
        var all = ByteBuffer()
        for var frame in frames { all.writeBuffer(&frame) }
        let sent = all.withUnsafeReadableBytes { Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        XCTAssertEqual(sent, all.readableBytes)
    }

    /// Reads until `count` whole reply frames arrived (waiting on the socket, up to 10 s).
    private func replies(_ count: Int) throws -> [Frame] {
        var frames: [Frame] = []
        var accumulator = FrameAccumulator(maximumLength: 1 << 20)
        while frames.count < count {
            if let frame = try accumulator.next() {
                frames.append(frame)
                continue
            }
            var chunk = ByteBuffer()
            var result = 0
            chunk.writeWithUnsafeMutableBytes(minimumWritableBytes: 4096) { raw in
                result = recv(client, raw.baseAddress, raw.count, 0)
                return max(0, result)
            }
            guard result > 0 else {
                XCTFail("the connection ended (or timed out) after \(frames.count) of \(count) replies")
                return frames
            }
            accumulator.append(&chunk)
        }
        // Keep what came after (none expected: a test that wanted it asked for more).
        XCTAssertEqual(accumulator.bufferedBytes, 0, "more bytes than the replies asked for")
        return frames
    }

    /// Nothing else was written before this: a PING sent now is the next reply.
    private func assertNothingElsePending(file: StaticString = #filePath, line: UInt = #line) throws {
        send(frame(.ping, id: 999, body: "fence"))
        let next = try replies(1)
        XCTAssertEqual(next.map(\.requestID), [999], "a reply arrived that was not expected", file: file, line: line)
    }

    /// The server closed its end: recv sees end of stream.
    private func assertClosedByServer(file: StaticString = #filePath, line: UInt = #line) {
        var byte: UInt8 = 0
        XCTAssertEqual(recv(client, &byte, 1, 0), 0, "the server should have closed the connection", file: file, line: line)
    }

    private func writeCalls() async -> Int {
        await withCheckedContinuation { continuation in
            loop.inspect { connections, _ in continuation.resume(returning: connections.first?.writeCalls ?? -1) }
        }
    }

    func testAReadIsAnsweredInlineFirstThenItsVerifiesTogetherInOneWrite() async throws {
        send(frame(.verify, id: 1, body: "a"), frame(.ping, id: 2, body: "p"), frame(.verify, id: 3, body: "b"), frame(.verify, id: 4, body: "bad"))
        let frames = try replies(4)
        XCTAssertEqual(frames.map(\.requestID), [2, 1, 3, 4])
        XCTAssertEqual(frames.map(\.flags), [.response, .response, .response, .response])
        XCTAssertEqual(frames.map(\.status), [0, 0, 0, Status.tokenInvalid.rawValue])
        XCTAssertEqual(String(buffer: frames[1].body), "verified:a")
        XCTAssertEqual(dispatcher.verifyBatches, [3])
        let calls = await writeCalls()
        XCTAssertEqual(calls, 1, "the whole read's replies leave in one write")
    }

    func testExactBytesOfAnInlineReply() throws {
        send(frame(.ping, id: 0x0102_0304, body: "hi"))
        var bytes = [UInt8](repeating: 0, count: 14)
        var got = 0
        while got < bytes.count {
            let n = bytes.withUnsafeMutableBytes { recv(client, $0.baseAddress! + got, 14 - got, 0) }
            guard n > 0 else { return XCTFail("no reply") }
            got += n
        }
        XCTAssertEqual(
            bytes,
            [
                0, 0, 0, 10,  // length: 8 + 2
                0x02, 0x01, 0, 0,  // PING, RESPONSE, status ok
                0x01, 0x02, 0x03, 0x04,  // request id
                UInt8(ascii: "h"), UInt8(ascii: "i"),
            ])
    }

    func testAVerifyDoesNotWaitBehindASlowRequest() throws {
        send(frame(.login, id: 1, body: "slow"), frame(.verify, id: 2, body: "a"))
        XCTAssertEqual(try replies(1).map(\.requestID), [2])
        dispatcher.release("slow")
        let late = try replies(1)
        XCTAssertEqual(late.map(\.requestID), [1])
        XCTAssertEqual(late.first.map { String(buffer: $0.body) }, "slow done")
    }

    func testSlowRequestsBeyondTheLimitGetBusy() throws {
        send(frame(.login, id: 1, body: "one"), frame(.login, id: 2, body: "two"), frame(.login, id: 3, body: "three"))
        let busy = try replies(1)
        XCTAssertEqual(busy.map(\.requestID), [3])
        XCTAssertEqual(busy.first?.status, Status.busy.rawValue)
        dispatcher.release("one")
        XCTAssertEqual(try replies(1).map(\.requestID), [1])
        send(frame(.login, id: 4, body: "four"))
        try assertNothingElsePending()  // a freed slot takes the next request: no busy for 4
        dispatcher.release("two")
        dispatcher.release("four")
        XCTAssertEqual(Set(try replies(2).map(\.requestID)), [2, 4])
    }

    /// A slow request that could not start (the hashing queue is full) is answered `busy` at
    /// once, without starting, and does not hold an in-flight slot.
    func testASlowRequestTheServerCannotStartIsBusyAtOnceAndHoldsNoSlot() throws {
        dispatcher.saturated.withLock { $0 = true }
        send(frame(.login, id: 1, body: "one"), frame(.login, id: 2, body: "two"), frame(.login, id: 3, body: "three"))
        let refused = try replies(3)
        XCTAssertEqual(refused.map(\.requestID), [1, 2, 3])
        XCTAssertEqual(Set(refused.map(\.status)), [Status.busy.rawValue])
        dispatcher.saturated.withLock { $0 = false }
        send(frame(.login, id: 4, body: "four"), frame(.login, id: 5, body: "five"))
        try assertNothingElsePending()  // both slots are free: the two requests started
        dispatcher.release("four")
        dispatcher.release("five")
        XCTAssertEqual(Set(try replies(2).map(\.requestID)), [4, 5])
    }

    func testAnUnknownOpcodeIsAnsweredAndTheConnectionStaysOpen() throws {
        var unknown = ByteBuffer()
        unknown.writeFrame(opcode: 0x7F, requestID: 9) { _ in }
        send(unknown, frame(.ping, id: 10))
        let frames = try replies(2)
        XCTAssertEqual(frames.map(\.requestID), [9, 10])
        XCTAssertEqual(frames[0].status, Status.unknownOpcode.rawValue)
        XCTAssertFalse(frames[0].flags.contains(.closing))
        try assertNothingElsePending()
    }

    func testAFramingErrorAnswersQueuedVerifiesThenClosesWithAClosingErrorFrame() throws {
        var hostile = ByteBuffer()
        hostile.writeInteger(UInt32.max)
        send(frame(.verify, id: 1, body: "a"), hostile)
        let frames = try replies(2)
        XCTAssertEqual(frames.map(\.requestID), [1, 0])
        XCTAssertEqual(frames[1].status, Status.frameTooLarge.rawValue)
        XCTAssertTrue(frames[1].flags.contains(.closing))
        assertClosedByServer()
    }

    func testAFrameSplitAcrossReadsIsAnsweredOnceWhole() throws {
        let whole = frame(.ping, id: 5, body: "split")
        for byte in whole.readableBytesView {
            var one = ByteBuffer()
            one.writeInteger(byte)
            send(one)
        }
        XCTAssertEqual(try replies(1).map(\.requestID), [5])
    }

    func testDrainingClosesOnlyAfterTheLastSlowReply() throws {
        send(frame(.login, id: 1, body: "slow"), frame(.ping, id: 2))
        XCTAssertEqual(try replies(1).map(\.requestID), [2])  // the login has started
        loop.drainConnections()
        send(frame(.ping, id: 3))
        XCTAssertEqual(try replies(1).map(\.requestID), [3], "a draining connection still answers")
        dispatcher.release("slow")
        XCTAssertEqual(try replies(1).map(\.requestID), [1])
        assertClosedByServer()
    }

    func testAHalfClosedPeerGetsEveryReplyItIsOwedThenTheClose() throws {
        send(frame(.login, id: 1, body: "slow"), frame(.verify, id: 2, body: "a"))
        shutdown(client, Int32(SHUT_WR))
        XCTAssertEqual(try replies(1).map(\.requestID), [2])
        dispatcher.release("slow")
        XCTAssertEqual(try replies(1).map(\.requestID), [1])
        assertClosedByServer()
    }

    private func loopState() async -> (open: Int, turns: Int) {
        await withCheckedContinuation { continuation in
            loop.inspect { connections, turns in continuation.resume(returning: (connections.count, turns)) }
        }
    }

    /// A peer that closes with a slow request in flight: the loop does not spin on its hang-up
    /// while the request runs, and the connection closes once the reply is due.
    func testAPeerThatHangsUpWithASlowRequestInFlightDoesNotSpinTheLoop() async throws {
        send(frame(.login, id: 1, body: "slow"), frame(.ping, id: 2))
        XCTAssertEqual(try replies(1).map(\.requestID), [2])  // the login has started
        close(client)
        client = -1
        // Three of the loop's own timer ticks (about 0.3 s): idle, it turns once per tick (and
        // once for this request); spinning on EPOLLHUP, hundreds of thousands of times.
        let before = await loopState()
        let turnsAfter = await withCheckedContinuation { continuation in
            loop.afterTicks(3) { turns in continuation.resume(returning: turns) }
        }
        let after = await loopState()
        XCTAssertEqual(after.open, 1, "still owed a reply")
        XCTAssertLessThan(turnsAfter - before.turns, 50, "the loop spins on the hung-up socket")
        dispatcher.release("slow")
        let closed = await tracker.waitUntilAllClosed(timeout: 10)
        XCTAssertTrue(closed, "the connection closes once its reply is due")
    }

    /// Where the loop's read buffer keeps its bytes now (read on the loop's thread).
    private func readBufferAddress() async -> UInt {
        let loop = self.loop!
        return await withCheckedContinuation { continuation in
            loop.inspect { _, _ in
                continuation.resume(returning: loop.readBuffer.withVeryUnsafeBytes { UInt(bitPattern: $0.baseAddress) })
            }
        }
    }

    /// The loop's connections read into one buffer, so an idle connection holds none. A
    /// half-received frame and a slow request's body are copied out of it; had either kept a
    /// reference, the next read (here another connection's) would have had to allocate a new
    /// buffer.
    func testAnIncompleteFrameAndASlowBodyLeaveTheSharedReadBufferFree() async throws {
        let other = servedSocketPair()
        defer { close(other) }

        send(frame(.ping, id: 1))
        XCTAssertEqual(try replies(1).map(\.requestID), [1])
        let first = await readBufferAddress()

        let mine = String(repeating: "m", count: 900)
        var split = frame(.ping, id: 4, body: mine)
        let head = split.readSlice(length: 450)!
        send(frame(.login, id: 2, body: "slow"), frame(.ping, id: 3), head)
        XCTAssertEqual(try replies(1).map(\.requestID), [3])  // that read is done: the login runs, half a frame waits

        let theirs = frame(.ping, id: 10, body: String(repeating: "t", count: 1000))
        let sent = theirs.withUnsafeReadableBytes { Glibc.send(other, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        XCTAssertEqual(sent, theirs.readableBytes)
        var echoed = 0  // the echo is as long as the request
        var scratch = [UInt8](repeating: 0, count: 4096)
        while echoed < theirs.readableBytes {
            let got = recv(other, &scratch, scratch.count, 0)
            guard got > 0 else { return XCTFail("the other connection ended") }
            echoed += got
        }
        let afterOthersRead = await readBufferAddress()
        XCTAssertEqual(afterOthersRead, first, "something still held the read buffer, so the next read allocated another")

        send(split)
        let ping = try replies(1)
        XCTAssertEqual(ping.map(\.requestID), [4])
        XCTAssertEqual(ping.first.map { String(buffer: $0.body) }, mine)
        dispatcher.release("slow")  // found by its body
        XCTAssertEqual(try replies(1).map(\.requestID), [2])
    }

    func testDrainingWithNothingInFlightClosesAtOnce() throws {
        send(frame(.ping, id: 1))
        XCTAssertEqual(try replies(1).map(\.requestID), [1])  // served
        loop.drainConnections()
        assertClosedByServer()
    }
}
