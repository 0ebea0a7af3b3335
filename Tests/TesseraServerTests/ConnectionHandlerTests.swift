import Locking
import Logging
import NIOCore
import NIOEmbedded
import TesseraProtocol
import XCTest

@testable import TesseraServer

/// The real ``ConnectionHandler`` in an `NIOAsyncTestingChannel`, with a fake dispatcher: exact
/// reply bytes, batching, pipelining order, back-pressure on slow requests, draining, framing
/// errors. No socket, no daemon.
final class ConnectionHandlerTests: XCTestCase {
    private var dispatcher: FakeDispatcher!
    private var channel: NIOAsyncTestingChannel!

    override func setUp() async throws {
        dispatcher = FakeDispatcher(maximumInFlight: 2)
        let dispatcher = self.dispatcher!
        channel = try await NIOAsyncTestingChannel(channelInitializer: { channel in
            try channel.pipeline.syncOperations.addHandler(
                ConnectionHandler(
                    dispatcher: dispatcher, peer: nil, peerClass: .admin, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                    tracker: nil, connectionID: 1))
        })
        // The handler answers from channelActive on: connect the channel as a real accept would.
        try await channel.connect(to: try SocketAddress(unixDomainSocketPath: "/tmp/peer.sock")).get()
    }

    override func tearDown() async throws {
        _ = try? await channel.finish()
    }

    private func frame(_ opcode: Opcode, id: UInt32, body: String = "") -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(opcode: opcode.rawValue, requestID: id) { $0.writeString(body) }
        return buffer
    }

    private func burst(_ frames: ByteBuffer...) -> ByteBuffer {
        var all = ByteBuffer()
        for var frame in frames { all.writeBuffer(&frame) }
        return all
    }

    /// Every frame written to the channel so far, split.
    private func replies() async throws -> [Frame] {
        var frames: [Frame] = []
        var accumulator = FrameAccumulator(maximumLength: 1 << 20)
        while var chunk = try await channel.readOutbound(as: ByteBuffer.self) {
            accumulator.append(&chunk)
            while let frame = try accumulator.next() { frames.append(frame) }
        }
        XCTAssertEqual(accumulator.bufferedBytes, 0, "a reply was cut short")
        return frames
    }

    func testABurstIsAnsweredInlineFirstThenItsVerifiesInOneSnapshotInOneWrite() async throws {
        try await channel.writeInbound(
            burst(
                frame(.verify, id: 1, body: "a"), frame(.ping, id: 2, body: "p"),
                frame(.verify, id: 3, body: "b"), frame(.verify, id: 4, body: "bad")))
        let first = try await channel.readOutbound(as: ByteBuffer.self)
        let nothingMore = try await channel.readOutbound(as: ByteBuffer.self)
        XCTAssertNil(nothingMore, "the whole burst leaves in one write")
        var accumulator = FrameAccumulator(maximumLength: 1 << 20)
        var written = try XCTUnwrap(first)
        accumulator.append(&written)
        var frames: [Frame] = []
        while let frame = try accumulator.next() { frames.append(frame) }
        XCTAssertEqual(frames.map(\.requestID), [2, 1, 3, 4])
        XCTAssertEqual(frames.map(\.flags), [.response, .response, .response, .response])
        XCTAssertEqual(frames.map(\.status), [0, 0, 0, Status.tokenInvalid.rawValue])
        XCTAssertEqual(String(buffer: frames[1].body), "verified:a")
        XCTAssertEqual(dispatcher.verifyBatches, [3])
    }

    func testExactBytesOfAnInlineReply() async throws {
        try await channel.writeInbound(frame(.ping, id: 0x0102_0304, body: "hi"))
        let written = try await channel.readOutbound(as: ByteBuffer.self)
        let reply = try XCTUnwrap(written)
        XCTAssertEqual(
            Array(reply.readableBytesView),
            [
                0, 0, 0, 10,  // length: 8 + 2
                0x02, 0x01, 0, 0,  // PING, RESPONSE, status ok
                0x01, 0x02, 0x03, 0x04,  // request id
                UInt8(ascii: "h"), UInt8(ascii: "i"),
            ])
    }

    func testAVerifyDoesNotWaitBehindASlowRequest() async throws {
        try await channel.writeInbound(burst(frame(.login, id: 1, body: "slow"), frame(.verify, id: 2, body: "a")))
        let beforeRelease = try await replies()
        XCTAssertEqual(beforeRelease.map(\.requestID), [2])
        dispatcher.release("slow")
        let late = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        var accumulator = FrameAccumulator(maximumLength: 1 << 20)
        var bytes = late
        accumulator.append(&bytes)
        let reply = try XCTUnwrap(try accumulator.next())
        XCTAssertEqual(reply.requestID, 1)
        XCTAssertEqual(String(buffer: reply.body), "slow done")
    }

    func testSlowRequestsBeyondTheLimitGetBusy() async throws {
        try await channel.writeInbound(
            burst(
                frame(.login, id: 1, body: "one"), frame(.login, id: 2, body: "two"),
                frame(.login, id: 3, body: "three")))
        let busy = try await replies()
        XCTAssertEqual(busy.map(\.requestID), [3])
        XCTAssertEqual(busy.first?.status, Status.busy.rawValue)
        dispatcher.release("one")
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        try await channel.writeInbound(frame(.login, id: 4, body: "four"))
        let afterFreedSlot = try await replies()
        XCTAssertEqual(afterFreedSlot.count, 0, "a freed slot takes the next request")
        dispatcher.release("two")
        dispatcher.release("four")
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
    }

    /// A slow request that could not start (the hashing queue is full) is answered `busy` at
    /// once, without starting, and does not hold an in-flight slot.
    func testASlowRequestTheServerCannotStartIsBusyAtOnceAndHoldsNoSlot() async throws {
        dispatcher.saturated.withLock { $0 = true }
        try await channel.writeInbound(
            burst(frame(.login, id: 1, body: "one"), frame(.login, id: 2, body: "two"), frame(.login, id: 3, body: "three")))
        let refused = try await replies()
        XCTAssertEqual(refused.map(\.requestID), [1, 2, 3])
        XCTAssertEqual(Set(refused.map(\.status)), [Status.busy.rawValue])
        dispatcher.saturated.withLock { $0 = false }
        try await channel.writeInbound(burst(frame(.login, id: 4, body: "four"), frame(.login, id: 5, body: "five")))
        let started = try await replies()
        XCTAssertEqual(started.count, 0, "both slots are free: the two requests started")
        dispatcher.release("four")
        dispatcher.release("five")
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        _ = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
    }

    func testAnUnknownOpcodeIsAnsweredAndTheConnectionStaysOpen() async throws {
        var unknown = ByteBuffer()
        unknown.writeFrame(opcode: 0x7F, requestID: 9) { _ in }
        try await channel.writeInbound(burst(unknown, frame(.ping, id: 10)))
        let frames = try await replies()
        XCTAssertEqual(frames.map(\.requestID), [9, 10])
        XCTAssertEqual(frames[0].status, Status.unknownOpcode.rawValue)
        XCTAssertFalse(frames[0].flags.contains(.closing))
        XCTAssertTrue(channel.isActive)
    }

    func testAFramingErrorAnswersQueuedVerifiesThenClosesWithAClosingErrorFrame() async throws {
        var hostile = ByteBuffer()
        hostile.writeInteger(UInt32.max)
        try await channel.writeInbound(burst(frame(.verify, id: 1, body: "a"), hostile))
        let frames = try await replies()
        XCTAssertEqual(frames.map(\.requestID), [1, 0])
        XCTAssertEqual(frames[1].status, Status.frameTooLarge.rawValue)
        XCTAssertTrue(frames[1].flags.contains(.closing))
        try await channel.closeFuture.get()
        XCTAssertFalse(channel.isActive)
    }

    func testAFrameSplitAcrossReadsIsAnsweredOnceWhole() async throws {
        let whole = frame(.ping, id: 5, body: "split")
        for byte in whole.readableBytesView {
            var one = ByteBuffer()
            one.writeInteger(byte)
            try await channel.writeInbound(one)
        }
        let answered = try await replies()
        XCTAssertEqual(answered.map(\.requestID), [5])
    }

    func testDrainingClosesOnlyAfterTheLastSlowReply() async throws {
        try await channel.writeInbound(frame(.login, id: 1, body: "slow"))
        channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        try await channel.writeInbound(frame(.ping, id: 2))
        let whileDraining = try await replies()
        XCTAssertEqual(whileDraining.map(\.requestID), [2])
        XCTAssertTrue(channel.isActive)
        dispatcher.release("slow")
        try await channel.closeFuture.get()
        let afterRelease = try await replies()
        XCTAssertEqual(afterRelease.map(\.requestID), [1])
    }

    func testAHalfClosedPeerGetsEveryReplyItIsOwedThenTheClose() async throws {
        try await channel.writeInbound(burst(frame(.login, id: 1, body: "slow"), frame(.verify, id: 2, body: "a")))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        let beforeRelease = try await replies()
        XCTAssertEqual(beforeRelease.map(\.requestID), [2])
        XCTAssertTrue(channel.isActive)
        dispatcher.release("slow")
        try await channel.closeFuture.get()
        let afterRelease = try await replies()
        XCTAssertEqual(afterRelease.map(\.requestID), [1])
    }

    func testDrainingWithNothingInFlightClosesAtOnce() async throws {
        channel.pipeline.fireUserInboundEventTriggered(DrainEvent())
        try await channel.closeFuture.get()
    }
}
