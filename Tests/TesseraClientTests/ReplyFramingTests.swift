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

    /// The request's reply frame. The test has written every byte of the reply, and the
    /// handler hands a reply on as it reads it, so the request has its answer now or never:
    /// ending the connection fails a request still waiting (with `connection-closed`) instead of
    /// leaving the test to hang, and changes nothing for one answered.
    private func reply(of request: Task<Frame, any Error>, on connection: ClientConnection) async throws -> Frame {
        connection.end(.connectionClosed)
        return try await request.value
    }

    private func reply(to requestID: UInt32, body: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeFrame(opcode: 9, flags: .response, requestID: requestID) { $0.writeBytes(body) }
        return buffer
    }

    func testAReplySplitAcrossReadsAtAnyByteIsReadWhole() async throws {
        let body: [UInt8] = Array(0..<40)
        for split in 1..<(12 + body.count) {
            let (channel, connection) = try await connected()
            let answered = send(connection, marker: UInt8(split))
            let id = try await nextRequestID(channel)
            var whole = reply(to: id, body: body)
            let first = whole.readSlice(length: split)!
            try await channel.writeInbound(first)
            try await channel.writeInbound(whole)
            XCTAssertTrue(channel.isActive, "split at \(split)")
            let frame = try await reply(of: answered, on: connection)
            XCTAssertEqual(frame.requestID, id, "split at \(split)")
            XCTAssertEqual(Array(frame.body.readableBytesView), body, "split at \(split)")
            _ = try? await channel.finish()
        }
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
        try await channel.writeInbound(firstReply)
        let secondFrame = try await reply(of: second, on: connection)
        XCTAssertEqual(Array(secondFrame.body.readableBytesView), [2, 2])
        let firstFrame = try await reply(of: first, on: connection)
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
            XCTAssertNotNil(connection.endedWith, "the bad length ended the connection: the stream cannot be read on")
            _ = try await reply(of: answered, on: connection)
            XCTFail("expected an error")
        } catch let error as TesseraClientError {
            XCTAssertEqual(error.name, "malformed-reply", "the bad length, not the test's own ending, failed the request")
        }
        _ = try? await channel.finish()
    }
}
