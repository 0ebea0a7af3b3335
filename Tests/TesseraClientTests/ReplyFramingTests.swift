import NIOCore
import NIOEmbedded
import TesseraProtocol
import XCTest

@testable import TesseraClient

/// How ``ClientChannelHandler`` splits the daemon's bytes into replies, on a testing channel
/// whose every read the test makes: a reply split across reads at any byte, several in one read,
/// and a length no reply may have.
final class ReplyFramingTests: XCTestCase {
    private static let maximumReplyLength: UInt32 = 1024

    /// A testing channel with the client's handler, connected, and its connection.
    private func connected() async throws -> (NIOAsyncTestingChannel, ClientConnection) {
        let channel = NIOAsyncTestingChannel()
        let connection = try await channel.testingEventLoop.executeInContext {
            let handler = ClientChannelHandler(firstRequestID: 1, maximumReplyLength: Self.maximumReplyLength)
            try channel.pipeline.syncOperations.addHandler(handler)
            return handler.connection
        }
        try await channel.connect(to: SocketAddress(unixDomainSocketPath: "/tessera-test.sock"))
        return (channel, try XCTUnwrap(connection))
    }

    /// The request id of the frame the client wrote next.
    private func nextRequestID(_ channel: NIOAsyncTestingChannel) async throws -> UInt32 {
        let request = try await channel.waitForOutboundWrite(as: ByteBuffer.self)
        return try XCTUnwrap(request.getInteger(at: request.readerIndex + 8, as: UInt32.self))
    }

    /// Sends a request whose body is `marker`.
    private func send(_ connection: ClientConnection, marker: UInt8) -> Task<Frame, any Error> {
        Task { try await connection.send(opcode: 9, timeout: .seconds(600)) { $0.writeInteger(marker) } }
    }

    /// The request's reply frame. The reply was complete when the test wrote its last byte, so
    /// it is there at once; a bound of 10 s fails a request left waiting (the testing loop's clock
    /// never reaches its own deadline) instead of hanging the run.
    private func reply(of request: Task<Frame, any Error>) async throws -> Frame {
        try await withThrowingTaskGroup(of: Frame?.self) { group in
            group.addTask { try await request.value }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            defer { group.cancelAll() }
            guard let frame = try await group.next()! else {
                request.cancel()
                throw TesseraClientError.malformedReply("no reply reached the request")
            }
            return frame
        }
    }

    private func reply(to requestID: UInt32, body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(opcode: 9, flags: .response, requestID: requestID) { $0.writeBytes(body) }
        return buffer
    }

    func testAReplySplitAcrossReadsAtAnyByteIsReadWhole() async throws {
        let (channel, connection) = try await connected()
        let body: [UInt8] = Array(0..<40)
        for split in 1..<(12 + body.count) {
            let answered = send(connection, marker: UInt8(split))
            let id = try await nextRequestID(channel)
            var whole = reply(to: id, body: body)
            let first = whole.readSlice(length: split)!
            try await channel.writeInbound(first)
            try await channel.writeInbound(whole)
            let frame = try await reply(of: answered)
            XCTAssertEqual(frame.requestID, id, "split at \(split)")
            XCTAssertEqual(Array(frame.body.readableBytesView), body, "split at \(split)")
        }
        XCTAssertTrue(channel.isActive)
        _ = try? await channel.finish()
    }

    func testRepliesInOneReadEachReachTheirRequest() async throws {
        let (channel, connection) = try await connected()
        let first = send(connection, marker: 1)
        let firstID = try await nextRequestID(channel)
        let second = send(connection, marker: 2)
        let secondID = try await nextRequestID(channel)
        // The second's reply and half the first's in one read, the rest in the next.
        var bytes = reply(to: secondID, body: [2, 2])
        var firstReply = reply(to: firstID, body: [1, 1, 1])
        var head = firstReply.readSlice(length: 10)!
        bytes.writeBuffer(&head)
        try await channel.writeInbound(bytes)
        let secondFrame = try await reply(of: second)
        XCTAssertEqual(Array(secondFrame.body.readableBytesView), [2, 2])
        try await channel.writeInbound(firstReply)
        let firstFrame = try await reply(of: first)
        XCTAssertEqual(Array(firstFrame.body.readableBytesView), [1, 1, 1])
        _ = try? await channel.finish()
    }

    func testALengthNoReplyMayHaveEndsTheConnectionAsMalformed() async throws {
        let (channel, connection) = try await connected()
        let answered = send(connection, marker: 1)
        _ = try await nextRequestID(channel)
        var bytes = ByteBuffer()
        bytes.writeInteger(Self.maximumReplyLength + 1)
        try await channel.writeInbound(bytes)
        do {
            _ = try await reply(of: answered)
            XCTFail("expected an error")
        } catch let error as TesseraClientError {
            XCTAssertEqual(error.name, "malformed-reply")
            XCTAssertFalse("\(error)".contains("no reply reached"), "the request failed at once, not by the test's bound")
        }
        XCTAssertNotNil(connection.endedWith, "the connection ended: the stream cannot be read on")
        _ = try? await channel.finish()
    }
}
