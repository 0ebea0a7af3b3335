import NIOCore
internal import TesseraProtocol

/// Splits the daemon's bytes into reply frames and hands each to the request waiting for it on
/// its ``ClientConnection``; ends the connection when the daemon closes it, sends a
/// connection-level error (a `CLOSING` frame, request id 0) or a frame the client cannot read.
/// Frames are split here, by a ``FrameAccumulator``, rather than by a decoder handler before this
/// one: each reply went through the pipeline again, wrapped and cast, for nothing.
final class ClientChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Set when the channel is added, before it is active: the connection is made for its channel.
    private(set) var connection: ClientConnection?
    private let firstRequestID: UInt32
    private var frames: FrameAccumulator
    /// Why this handler closed the connection, for the requests its closing fails.
    private var closingReason: TesseraClientError?

    init(firstRequestID: UInt32, maximumReplyLength: UInt32) {
        self.firstRequestID = firstRequestID
        frames = FrameAccumulator(maximumLength: maximumReplyLength)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connection = ClientConnection(channel: context.channel, firstRequestID: firstRequestID)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closingReason == nil else { return }
        var bytes = unwrapInboundIn(data)
        frames.append(&bytes)
        do {
            while let frame = try frames.next() {
                receive(frame, context: context)
                if closingReason != nil { return }
            }
        } catch {
            errorCaught(context: context, error: error)
        }
    }

    private func receive(_ frame: Frame, context: ChannelHandlerContext) {
        _ = connection?.complete(frame)
        guard frame.flags.contains(.closing) else { return }
        // The daemon closes the connection after this frame (a connection-level error, or one
        // answering a request): every other waiting request fails with it. Ended before it
        // closes, so a caller that goes on at once opens a fresh connection.
        let error = (try? ClientReply.serverError(frame)) ?? .connectionClosed
        closingReason = error
        connection?.end(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        connection?.end(closingReason ?? .connectionClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reason = TesseraClientError.malformedReply("\(error)")
        closingReason = reason
        connection?.end(reason)
        context.close(promise: nil)
    }
}

/// Decoding of reply frames.
enum ClientReply {
    static func serverError(_ frame: Frame) throws -> TesseraClientError {
        let body = try ErrorBody(decoding: frame.body)
        return .server(
            TesseraError(
                code: TesseraError.Code(rawValue: frame.status), name: body.name, message: body.message, traceID: body.traceID,
                retryAfter: body.retryAfterSeconds.map { .seconds(Int64($0)) }, closedConnection: frame.flags.contains(.closing)))
    }
}
