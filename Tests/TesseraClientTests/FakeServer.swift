import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TesseraProtocol
import TestSupport

/// A Unix-socket server built on the protocol's own codec, answering with whatever the test
/// tells it: the client's behaviour (pipelining by request id, error frames, closes, malformed
/// replies) without a daemon.
final class FakeServer: Sendable {
    /// Decides the answer to a request frame: the frames to send back (any opcode, id, order).
    typealias Responder = @Sendable (Frame) -> [ByteBuffer]

    let socketPath: String
    private let directory = TemporaryDirectory("tessera-fake")
    private let channel: any Channel
    private let received = NIOLockedValueBox<[Frame]>([])

    init(group: any EventLoopGroup, respond: @escaping Responder) throws {
        socketPath = directory.file("fake.sock")
        let received = self.received
        channel = try ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder(maximumLength: 1 << 20)))
                    try channel.pipeline.syncOperations.addHandler(Answerer(respond: respond, received: received))
                }
            }
            .bind(unixDomainSocketPath: socketPath, cleanupExistingSocketFile: true).wait()
    }

    /// The request frames received so far, in arrival order.
    var requests: [Frame] { received.withLockedValue { $0 } }

    func stop() {
        try? channel.close().wait()
        directory.remove()
    }

    /// A reply frame to `request` carrying `message`.
    static func reply(to request: Frame, _ message: some WireMessage) -> ByteBuffer {
        var buffer = ByteBuffer()
        // The tests' replies are small: a field can always hold them.
        try! buffer.writeFrame(opcode: request.opcode, flags: .response, requestID: request.requestID) { try message.encode(into: &$0) }
        return buffer
    }

    /// An error frame answering `request` with `status`.
    static func error(to request: Frame, _ status: Status, closing: Bool = false) -> ByteBuffer {
        var buffer = ByteBuffer()
        try! buffer.writeFrame(
            opcode: request.opcode, flags: closing ? [.response, .closing] : .response, status: status.rawValue,
            requestID: request.requestID
        ) {
            try ErrorBody(name: status.name, message: "fake \(status.name)", traceID: "0011223344556677").encode(into: &$0)
        }
        return buffer
    }
}

private final class Answerer: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer
    let respond: FakeServer.Responder
    let received: NIOLockedValueBox<[Frame]>

    init(respond: @escaping FakeServer.Responder, received: NIOLockedValueBox<[Frame]>) {
        self.respond = respond
        self.received = received
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        received.withLockedValue { $0.append(frame) }
        for reply in respond(frame) {
            if reply.readableBytes == 0 {
                context.flush()
                context.close(promise: nil)  // an empty buffer: hang up
                return
            }
            context.write(wrapOutboundOut(reply), promise: nil)
        }
        context.flush()
    }
}
